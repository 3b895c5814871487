import PropertyBased
import Testing
@testable import MufakatViews

/// Small-count suppression: no shown number includes a figure below the threshold, so no
/// small figure can be worked out, from one table or from several.
@Suite("Suppression of small counts")
struct SuppressionTests {
    @Test("a count below 11 shows as <11; every total of a line holding it is hidden; the rest shows")
    func example() {
        let table = SuppressedTable(cells: [[7, 20, 30], [12, 40, nil]])
        #expect(table.cells[0].map { $0?.text(threshold: 11) } == ["<11", "20", "30"])
        #expect(table.cells[1].map { $0?.text(threshold: 11) } == ["12", "40", nil])
        #expect(table.rowTotals == [.hidden, .value(52)])
        #expect(table.columnTotals == [.hidden, .value(60), .value(30)])
        #expect(table.grandTotal == .hidden)
        #expect(!table.shownNumbers.contains(7))
    }

    @Test("a cell summing several figures, one of them small, is hidden: grouped another way it would give that figure back")
    func differencing() {
        // Figures: lead 7 (East Java) and 25 (Central Java); ngo-a 40 (Central Java).
        // By area: East Java 7, Central Java 65. By organisation: lead 32, ngo-a 40.
        let byArea = SuppressedTable(cells: [[7], [65]], smallest: [[7], [25]])
        let byOrg = SuppressedTable(cells: [[32], [40]], smallest: [[7], [40]])
        #expect(byArea.cells.map { $0[0] } == [.small, .value(65)])
        #expect(byOrg.cells.map { $0[0] } == [.hidden, .value(40)], "lead's 32 − (65 − 40) would be 7")
        #expect(byArea.grandTotal == .hidden && byOrg.grandTotal == .hidden)
        // Every number shown in either view is a sum of figures of 11 or more.
        #expect(Set(byArea.shownNumbers + byOrg.shownNumbers) == [65, 40])
    }

    @Test("zero is a count below the threshold too; missing figures are not hidden cells")
    func zeroAndMissing() {
        let table = SuppressedTable(cells: [[0, nil, 50]])
        #expect(table.cells[0][0] == .small)
        #expect(table.cells[0][1] == nil)
        #expect(table.rowTotals == [.hidden])
        #expect(SuppressedTable(cells: [[nil, 50]]).rowTotals == [.value(50)])
    }

    private static let tables = Gen.int(in: 0...60).map { Int64($0) }.optional.array(of: 1...6).array(of: 1...6)
    private static let thresholds = Gen.int(in: 2...15).map { Int64($0) }

    @Test("random tables: no shown number is small or sums a small figure, shown cells are the figures, and no hidden cell follows from the shown totals — 1,000 cases")
    func noSmallCountRecoverable() async {
        await propertyCheck(count: 1_000, input: Self.tables, Self.thresholds) { raw, threshold in
            let table = SuppressedTable(cells: raw, threshold: threshold)
            #expect(table.shownNumbers.allSatisfy { $0 >= threshold })
            let width = raw.map(\.count).max() ?? 0
            var hidden: [(Int, Int)] = []
            for (row, values) in raw.enumerated() {
                for column in 0..<width {
                    let value = column < values.count ? values[column] : nil
                    switch (value, table.cells[row][column]) {
                    case (nil, nil): break
                    case (let number?, .value(let shown)?): #expect(number == shown && number >= threshold)
                    case (let number?, .small?):
                        #expect(number < threshold)
                        hidden.append((row, column))
                    default: Issue.record("cell \(row),\(column): \(String(describing: value)) shown as \(String(describing: table.cells[row][column]))")
                    }
                }
            }
            // A shown total sums shown cells only.
            for (row, total) in table.rowTotals.enumerated() where total.number != nil {
                #expect(!hidden.contains { $0.0 == row })
            }
            for (column, total) in table.columnTotals.enumerated() where total.number != nil {
                #expect(!hidden.contains { $0.1 == column })
            }
            if table.grandTotal.number != nil { #expect(hidden.isEmpty) }
            // Independent check: the hidden cells as unknowns of the equations every shown
            // total gives; none may be determined.
            var equations: [[Double]] = []
            for row in raw.indices where table.rowTotals[row].number != nil { equations.append(hidden.map { $0.0 == row ? 1 : 0 }) }
            for column in 0..<width where table.columnTotals[column].number != nil { equations.append(hidden.map { $0.1 == column ? 1 : 0 }) }
            if table.grandTotal.number != nil { equations.append(hidden.map { _ in 1 }) }
            for index in hidden.indices {
                var unit = [Double](repeating: 0, count: hidden.count)
                unit[index] = 1
                #expect(Self.rank(equations + [unit]) > Self.rank(equations), "hidden cell \(hidden[index]) of \(raw) follows from the shown totals")
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
