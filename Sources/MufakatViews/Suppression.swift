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
///    otherwise it is `hidden`;
/// 4. and, as a check of the above, no small cell may be the solution of the equations the
///    shown totals give (its unit vector in their span); were one, its row's total, else its
///    column's, else the grand total would be hidden too.
public struct SuppressedTable: Hashable, Sendable {
    public var cells: [[ShownCount?]]
    public var rowTotals: [ShownCount]
    public var columnTotals: [ShownCount]
    public var grandTotal: ShownCount
    public var threshold: Int64

    public static let defaultThreshold: Int64 = 11

    /// `smallest` defaults to the cells themselves: each cell one figure.
    public init(cells raw: [[Int64?]], smallest rawSmallest: [[Int64?]]? = nil, threshold: Int64 = defaultThreshold) {
        self.threshold = threshold
        let columns = raw.map(\.count).max() ?? 0
        func square(_ rows: [[Int64?]]) -> [[Int64?]] { rows.map { row in (0..<columns).map { $0 < row.count ? row[$0] : nil } } }
        let grid = square(raw)
        let smallest = rawSmallest.map(square) ?? grid
        let rowSums = grid.map { $0.compactMap { $0 }.reduce(0, +) }
        let columnSums = (0..<columns).map { column in grid.compactMap { $0[column] }.reduce(0, +) }

        let cells: [[ShownCount?]] = grid.indices.map { row in
            grid[row].indices.map { column in
                grid[row][column].map { value in
                    value < threshold ? .small : (smallest[row][column] ?? value) < threshold ? .hidden : .value(value)
                }
            }
        }
        func total(_ members: [ShownCount], _ sum: Int64) -> ShownCount {
            members.allSatisfy { $0.number != nil } ? (sum < threshold ? .small : .value(sum)) : .hidden
        }
        var rowTotals = grid.indices.map { row in total(cells[row].compactMap { $0 }, rowSums[row]) }
        var columnTotals = (0..<columns).map { column in total(grid.indices.compactMap { cells[$0][column] }, columnSums[column]) }
        var grandTotal = total(cells.joined().compactMap { $0 }, rowSums.reduce(0, +))

        // The check: each shown total is one equation over the hidden cells of its line.
        let unknowns = grid.indices.flatMap { row in grid[row].indices.compactMap { column in cells[row][column].map { $0.number == nil } == true ? (row, column) : nil } }
        func equations() -> [[Double]] {
            var rows: [[Double]] = []
            for row in grid.indices where rowTotals[row].number != nil {
                rows.append(unknowns.map { $0.0 == row ? 1 : 0 })
            }
            for column in 0..<columns where columnTotals[column].number != nil {
                rows.append(unknowns.map { $0.1 == column ? 1 : 0 })
            }
            if grandTotal.number != nil { rows.append(unknowns.map { _ in 1 }) }
            return rows
        }
        // By rule 3 no shown total's line holds a hidden cell, so the check has nothing to
        // solve; it runs only if a line ever does.
        while equations().contains(where: { $0.contains(1) }), let determined = Self.determined(by: equations(), width: unknowns.count).first {
            let (row, column) = unknowns[determined]
            if rowTotals[row].number != nil {
                rowTotals[row] = .hidden
            } else if columnTotals[column].number != nil {
                columnTotals[column] = .hidden
            } else {
                grandTotal = .hidden
            }
        }
        self.cells = cells
        self.rowTotals = rowTotals
        self.columnTotals = columnTotals
        self.grandTotal = grandTotal
    }

    /// The unknowns whose value `equations` (rows of `width` coefficients) determine: the
    /// unit vectors in their span. In the reduced row echelon form, a unit vector lies in
    /// the span exactly when some row holds only its pivot.
    static func determined(by equations: [[Double]], width: Int) -> [Int] {
        var rows = equations
        var pivots: [Int] = []
        for column in 0..<width where pivots.count < rows.count {
            let rank = pivots.count
            guard let pivot = (rank..<rows.count).max(by: { abs(rows[$0][column]) < abs(rows[$1][column]) }),
                abs(rows[pivot][column]) > 1e-9
            else { continue }
            rows.swapAt(rank, pivot)
            let lead = rows[rank][column]
            for index in column..<width { rows[rank][index] /= lead }
            for other in rows.indices where other != rank && abs(rows[other][column]) > 1e-12 {
                let factor = rows[other][column]
                for index in column..<width { rows[other][index] -= factor * rows[rank][index] }
            }
            pivots.append(column)
        }
        return pivots.enumerated().compactMap { row, column in
            rows[row].indices.allSatisfy { $0 == column || abs(rows[row][$0]) < 1e-9 } ? column : nil
        }
    }

    /// Every number a reader can see in the table, for tests: none is a suppressed one.
    public var shownNumbers: [Int64] {
        cells.joined().compactMap { $0?.number } + rowTotals.compactMap(\.number) + columnTotals.compactMap(\.number)
            + (grandTotal.number.map { [$0] } ?? [])
    }
}
