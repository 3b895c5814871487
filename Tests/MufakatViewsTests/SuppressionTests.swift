import PropertyBased
import Testing
@testable import MufakatViews

/// Small-count suppression: no shown number is small, and no small count can be worked out
/// from the numbers shown.
@Suite("Suppression of small counts")
struct SuppressionTests {
    @Test("a count below 11 shows as <11; a total beside one hidden cell is hidden; the rest shows")
    func example() {
        let table = SuppressedTable(cells: [[7, 20, 30], [12, 40, nil]])
        #expect(table.cells[0].map { $0?.text(threshold: 11) } == ["<11", "20", "30"])
        #expect(table.cells[1].map { $0?.text(threshold: 11) } == ["12", "40", nil])
        #expect(table.rowTotals == [.hidden, .value(52)])
        // Column 0: 7 hidden beside 12 shown — the total would give 7 back.
        #expect(table.columnTotals == [.hidden, .value(60), .value(30)])
        // The grand total with row 1's 52 shown would give back row 0's 57, and so 7.
        #expect(table.grandTotal == .hidden)
        #expect(!table.shownNumbers.contains(7))
    }

    @Test("two small cells in a line may keep its total when together they reach the threshold; not when they do not")
    func pairs() {
        let kept = SuppressedTable(cells: [[6, 8, 30], [9, 7, 40]])
        #expect(kept.cells[0][0] == .small && kept.cells[0][1] == .small)
        // Each row total would give back the sum of its two small cells (14, 16): shown.
        // A 2×2 block of small cells is determined by no combination of the totals.
        let pair = SuppressedTable(cells: [[3, 4, 30]])
        #expect(pair.rowTotals == [.hidden], "3 + 4 = 7 is itself small")
        #expect(Set(kept.shownNumbers).isDisjoint(with: [6, 8, 9, 7]))
    }

    @Test("zero is a count below the threshold too; missing figures are not hidden cells")
    func zeroAndMissing() {
        let table = SuppressedTable(cells: [[0, nil, 50]])
        #expect(table.cells[0][0] == .small)
        #expect(table.cells[0][1] == nil)
        #expect(table.rowTotals == [.hidden])
    }

    private static let tables = Gen.int(in: 0...60).map { Int64($0) }.optional.array(of: 1...6).array(of: 1...6)
    private static let thresholds = Gen.int(in: 2...15).map { Int64($0) }

    @Test("random tables: no shown number is small, shown cells are the figures, and no small cell follows from the shown totals — 1,000 cases")
    func noSmallCountRecoverable() async {
        await propertyCheck(count: 1_000, input: Self.tables, Self.thresholds) { raw, threshold in
            let table = SuppressedTable(cells: raw, threshold: threshold)
            #expect(table.shownNumbers.allSatisfy { $0 >= threshold })
            let width = raw.map(\.count).max() ?? 0
            for (row, values) in raw.enumerated() {
                for column in 0..<width {
                    let value = column < values.count ? values[column] : nil
                    switch (value, table.cells[row][column]) {
                    case (nil, nil): break
                    case (let number?, .value(let shown)?): #expect(number == shown && number >= threshold)
                    case (let number?, .small?): #expect(number < threshold)
                    default: Issue.record("cell \(row),\(column): \(String(describing: value)) shown as \(String(describing: table.cells[row][column]))")
                    }
                }
            }
            // Independent check: the small cells, as unknowns of the equations every shown
            // total gives; none may be determined.
            let unknowns = raw.indices.flatMap { row in
                (0..<width).compactMap { column in table.cells[row][column] == .small ? (row, column) : nil }
            }
            var equations: [[Double]] = []
            for row in raw.indices where table.rowTotals[row].number != nil { equations.append(unknowns.map { $0.0 == row ? 1 : 0 }) }
            for column in 0..<width where table.columnTotals[column].number != nil { equations.append(unknowns.map { $0.1 == column ? 1 : 0 }) }
            if table.grandTotal.number != nil { equations.append(unknowns.map { _ in 1 }) }
            for index in unknowns.indices {
                var unit = [Double](repeating: 0, count: unknowns.count)
                unit[index] = 1
                #expect(
                    Self.rank(equations + [unit]) > Self.rank(equations),
                    "small cell \(unknowns[index]) of \(raw) follows from the shown totals")
            }
        }
    }

    /// Rank by plain Gaussian elimination (the test's own, not the implementation's).
    static func rank(_ matrix: [[Double]]) -> Int {
        var rows = matrix
        guard let width = rows.first?.count else { return 0 }
        var rank = 0
        for column in 0..<width {
            guard let pivot = rows.indices.dropFirst(rank).first(where: { abs(rows[$0][column]) > 1e-9 }) else { continue }
            rows.swapAt(rank, pivot)
            for other in rows.indices where other > rank {
                let factor = rows[other][column] / rows[rank][column]
                for index in 0..<width { rows[other][index] -= factor * rows[rank][index] }
            }
            rank += 1
        }
        return rank
    }
}
