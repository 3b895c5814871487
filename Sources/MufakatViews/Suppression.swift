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
/// figures: every count below `threshold` (default 11) is shown as `<11`, and a total is
/// hidden where it, with the cells shown beside it, would let a reader compute a hidden
/// count.
///
/// A table is `cells[row][column]` (a missing figure is `nil`: no count, nothing to hide),
/// with a total per row, per column, and a grand total. The rules, applied until nothing
/// changes:
/// 1. a cell or total below the threshold is `small`;
/// 2. a total shown beside exactly one hidden member of its line, or beside hidden
///    members that sum to less than the threshold, is `hidden` — its line being a row's
///    cells, a column's cells, or (for the grand total) the row totals and the column totals;
/// 3. a hidden total is a hidden member of the grand total's lines, so the grand total
///    cannot give it back;
/// 4. then an exact check: no small cell may be the solution of the equations the shown
///    totals give (a small cell is determined when its unit vector lies in their span);
///    while one is, the shown total of its row, else its column, else the grand total, is
///    hidden too.
public struct SuppressedTable: Hashable, Sendable {
    public var cells: [[ShownCount?]]
    public var rowTotals: [ShownCount]
    public var columnTotals: [ShownCount]
    public var grandTotal: ShownCount
    public var threshold: Int64

    public static let defaultThreshold: Int64 = 11

    public init(cells raw: [[Int64?]], threshold: Int64 = defaultThreshold) {
        self.threshold = threshold
        let columns = raw.map(\.count).max() ?? 0
        let grid = raw.map { row in (0..<columns).map { $0 < row.count ? row[$0] : nil } }
        let rowSums = grid.map { $0.compactMap { $0 }.reduce(0, +) }
        let columnSums = (0..<columns).map { column in grid.compactMap { $0[column] }.reduce(0, +) }
        let grandSum = rowSums.reduce(0, +)
        func primary(_ value: Int64) -> ShownCount { value < threshold ? .small : .value(value) }

        let cells = grid.map { $0.map { $0.map(primary) } }
        var rowTotals = rowSums.map(primary)
        var columnTotals = columnSums.map(primary)
        var grandTotal = primary(grandSum)

        // A total must go when its hidden members are one, or sum to less than the threshold.
        func revealing(_ members: [(shown: ShownCount, value: Int64)]) -> Bool {
            let hidden = members.filter { $0.shown.number == nil }
            return hidden.count == 1 || (!hidden.isEmpty && hidden.map(\.value).reduce(0, +) < threshold)
        }
        var changed = true
        while changed {
            changed = false
            for row in grid.indices where rowTotals[row].number != nil {
                let members = grid[row].indices.compactMap { column in grid[row][column].map { (cells[row][column]!, $0) } }
                if revealing(members) { rowTotals[row] = .hidden; changed = true }
            }
            for column in 0..<columns where columnTotals[column].number != nil {
                let members = grid.indices.compactMap { row in grid[row][column].map { (cells[row][column]!, $0) } }
                if revealing(members) { columnTotals[column] = .hidden; changed = true }
            }
            if grandTotal.number != nil,
                revealing(Array(zip(rowTotals, rowSums))) || revealing(Array(zip(columnTotals, columnSums)))
            {
                grandTotal = .hidden
                changed = true
            }
        }
        // The exact check: each shown total is one equation over the small cells of its line.
        let unknowns = grid.indices.flatMap { row in grid[row].indices.compactMap { column in cells[row][column] == .small ? (row, column) : nil } }
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
        while let determined = Self.determined(by: equations(), width: unknowns.count).first {
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
