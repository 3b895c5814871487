/// A count as shown to others: the number, or hidden because it is small or because it
/// would let a reader work out a small one.
public enum ShownCount: Hashable, Sendable {
    case value(Int64)
    /// Below the threshold (primary suppression).
    case small
    /// A total hidden because, with the cells shown beside it, it would reveal a small
    /// count (secondary suppression).
    case hidden

    /// The text a reader sees: the number, `<k`, or `–` for a hidden total. A suppressed
    /// number never appears in it.
    public func text(threshold: Int64) -> String {
        switch self {
        case .value(let number): return String(number)
        case .small: return "<\(threshold)"
        case .hidden: return "–"
        }
    }

    /// The number, when shown.
    public var number: Int64? {
        if case .value(let number) = self { return number }
        return nil
    }
}

/// Small-count suppression for tables shown to others, as CTDC publishes trafficking
/// figures. Its invariant: **no number shown includes a figure below the threshold** — so no
/// combination of shown numbers, from this table or any other view of the same figures
/// (another grouping, another range of periods), can give one back.
///
/// A table is `cells[row][column]`, each the sum of one or more figures (a missing one is
/// `nil`: no count, nothing to hide), with `smallest[row][column]` the least figure in it,
/// and a total per row, per column, and a grand total:
/// 1. a cell below the threshold is `small` (shown `<11`);
/// 2. a cell at or above it that holds a figure below it is `hidden` (shown `–`): beside the
///    same figures grouped another way it would give that figure back;
/// 3. a total is shown only when every cell of its line is (the grand total: every cell);
///    otherwise it is `hidden`. So no shown total is an equation over hidden cells, and none
///    can be solved for one (the property test checks that with a solver of its own).
public struct SuppressedTable: Hashable, Sendable {
    public var cells: [[ShownCount?]]
    public var rowTotals: [ShownCount]
    public var columnTotals: [ShownCount]
    public var grandTotal: ShownCount
    public var threshold: Int64

    public static let defaultThreshold: Int64 = 11

    /// `smallest` defaults to the cells themselves: each cell one figure. `totalled` says
    /// which rows the column and grand totals sum (all by default): a row that is part of
    /// another (a district beside its province) is shown but not added twice.
    public init(
        cells raw: [[Int64?]], smallest rawSmallest: [[Int64?]]? = nil, totalled: [Bool]? = nil, columns width: Int? = nil,
        threshold: Int64 = defaultThreshold
    ) {
        self.threshold = threshold
        let columns = max(width ?? 0, raw.map(\.count).max() ?? 0)
        func square(_ rows: [[Int64?]]) -> [[Int64?]] { rows.map { row in (0..<columns).map { $0 < row.count ? row[$0] : nil } } }
        let grid = square(raw)
        let smallest = rawSmallest.map(square) ?? grid
        let rowSums = grid.map { Self.sum($0.compactMap { $0 }) }
        let counted = grid.indices.filter { totalled?[$0] ?? true }
        let columnSums = (0..<columns).map { column in Self.sum(counted.compactMap { grid[$0][column] }) }

        let cells: [[ShownCount?]] = grid.indices.map { row in
            grid[row].indices.map { column in
                grid[row][column].map { value in
                    value < threshold ? .small : (smallest[row][column] ?? value) < threshold ? .hidden : .value(value)
                }
            }
        }
        // A total past 64 bits (counts the catalogue bounds never get there) is hidden, never
        // a crash.
        func total(_ members: [ShownCount], _ sum: Int64?) -> ShownCount {
            // A line with no count at all shows none (not a small one).
            guard let sum, !members.isEmpty, members.allSatisfy({ $0.number != nil }) else { return .hidden }
            return sum < threshold ? .small : .value(sum)
        }
        let rowTotals = grid.indices.map { row in total(cells[row].compactMap { $0 }, rowSums[row]) }
        let columnTotals = (0..<columns).map { column in total(counted.compactMap { cells[$0][column] }, columnSums[column]) }
        let countedSums = counted.map { rowSums[$0] }
        let grandTotal = total(
            counted.flatMap { cells[$0] }.compactMap { $0 }, countedSums.contains(nil) ? nil : Self.sum(countedSums.compactMap { $0 }))

        self.cells = cells
        self.rowTotals = rowTotals
        self.columnTotals = columnTotals
        self.grandTotal = grandTotal
    }

    /// The sum of `numbers`, `nil` when it passes 64 bits.
    static func sum(_ numbers: [Int64]) -> Int64? {
        var total: Int64 = 0
        for number in numbers {
            let (next, overflow) = total.addingReportingOverflow(number)
            if overflow { return nil }
            total = next
        }
        return total
    }

    /// Every number a reader can see in the table, for tests: none is a suppressed one.
    public var shownNumbers: [Int64] {
        cells.joined().compactMap { $0?.number } + rowTotals.compactMap(\.number) + columnTotals.compactMap(\.number)
            + (grandTotal.number.map { [$0] } ?? [])
    }
}
