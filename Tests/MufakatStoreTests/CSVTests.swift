import Foundation
import MufakatCore
import MufakatTesting
import Testing
@testable import MufakatStore

@Suite("CSV import and export")
struct CSVTests {
    /// 1,000 realistic report rows as CSV.
    static func reportsCSV(rows: Int = 1_000, badRow: Int? = nil) -> String {
        var data = SampleData(seed: 11)
        return data.reportsCSV(rows: rows, lineEnding: "\r\n") { index, cells in
            if index == badRow { cells[5] = "12x" }
        }
    }

    @Test("1,000 rows import in one go; importing them again changes nothing")
    func importAndReimport() throws {
        let store = try ReplicaStore.inMemory()
        let csv = Data(Self.reportsCSV().utf8)
        let report = try store.importCSV("reports", data: csv)
        #expect(report.rows == 1_000 && report.created == 1_000)
        let digest = try store.digest()
        #expect(try store.pendingCount() == 1_000, "one pending write per row")
        let again = try store.importCSV("reports", data: csv)
        #expect(again.unchanged == 1_000 && again.created == 0 && again.updated == 0)
        #expect(try store.digest() == digest)
        #expect(try store.pendingCount() == 1_000, "an unchanged row writes nothing")
    }

    @Test("one bad row among 1,000: nothing imported, the row named with its problem")
    func oneBadRow() throws {
        let store = try ReplicaStore.inMemory()
        let digest = try store.digest()
        do {
            _ = try store.importCSV("reports", data: Data(Self.reportsCSV(badRow: 736).utf8))
            Issue.record("accepted")
        } catch let error as MufakatError {
            #expect(error.code == .invalid)
            #expect(error.message.contains("1 of 1000 rows are not valid; nothing was imported"))
            #expect(error.message.contains("row 738: value: '12x' is not a whole number"))
        }
        #expect(try store.digest() == digest)
        #expect(try store.list("reports").isEmpty)
        #expect(try store.pendingCount() == 0)
    }

    @Test("quoted cells with commas, quotes and newlines; Excel's BOM; CRLF")
    func rfc4180() throws {
        let store = try ReplicaStore.inMemory()
        let csv = "\u{FEFF}id,title,category,text\r\n"
            + "ask-1,\"Budget, shelters\",BudgetIncrease,\"Line one\r\nLine \"\"two\"\"\"\r\n"
            + "ask-2,Training,training,\r\n"
        let report = try store.importCSV("asks", data: Data(csv.utf8))
        #expect(report.created == 2)
        let first = try store.get("asks", id: "ask-1")
        #expect(first.document["title"] == .string("Budget, shelters"))
        #expect(first.document["text"] == .string("Line one\nLine \"two\""))
        #expect(try store.get("asks", id: "ask-2").document["category"] == .string("Training"))
    }

    @Test("export → import into a fresh replica → export gives the same file")
    func roundTrip() throws {
        let source = try ReplicaStore.inMemory()
        _ = try source.importCSV("reports", data: Data(Self.reportsCSV(rows: 300).utf8))
        try source.put("asks", id: "ask-1", [("title", "Budget, \"shelters\""), ("category", "BudgetIncrease"), ("text", "a\nb")])
        try source.put("meetings", id: "mtg-1", [("date", "2025-11-03"), ("title", "Nov"), ("attendees", "iom;unicef")])
        for collection in ["reports", "asks", "meetings"] {
            let exported = try source.exportCSV(collection)
            let fresh = try ReplicaStore.inMemory()
            let report = try fresh.importCSV(collection, data: Data(exported.utf8))
            #expect(report.unchanged == 0)
            #expect(try fresh.exportCSV(collection) == exported, "\(collection)")
            #expect(try fresh.importCSV(collection, data: Data(exported.utf8)).unchanged == report.rows)
        }
    }

    /// Issue 28: `=HYPERLINK(…)` typed into a title passed raw into `mufakat export`.
    @Test("export defuses cells a spreadsheet would run as formulas; import gives back every value exactly")
    func formulasDefused() throws {
        let source = try ReplicaStore.inMemory()
        let titles = [
            "=HYPERLINK(\"http://evil.example\",\"minutes\")", "+cmd", "-2 people", "@SUM(A1)", "'=quoted", "''+twice", "'plain",
            "=", "-3",
        ]
        for (index, title) in titles.enumerated() {
            try source.put("asks", id: "ask-\(index)", [("title", title), ("category", "Training")])
        }
        let exported = try source.exportCSV("asks")
        #expect(exported.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"minutes\"\")\""))
        #expect(exported.contains("'+cmd") && exported.contains("'@SUM(A1)") && exported.contains(",''=quoted,") && exported.contains(",'''+twice,"))
        #expect(exported.contains(",-3,"))
        let fresh = try ReplicaStore.inMemory()
        _ = try fresh.importCSV("asks", data: Data(exported.utf8))
        for (index, title) in titles.enumerated() {
            #expect(try fresh.get("asks", id: "ask-\(index)").document["title"] == .string(title))
        }
        #expect(try fresh.exportCSV("asks") == exported)
    }

    @Test("export marks disputed values (_conflicts, and every candidate in JSON); importing the file leaves them disputed")
    func exportMarksConflicts() async throws {
        let clock = TestClock()
        let mine = try ReplicaStore.inMemory(name: "Andi (IOM)", naming: false, clock: clock.read)
        let theirs = try ReplicaStore.inMemory(name: "Sari (UNICEF)", naming: false, clock: clock.read)
        try mine.put("positions", id: "gov:budget", [("stance", "Neutral"), ("influence", "Low")])
        try mine.put("positions", id: "gov:shelters", [("stance", "Neutral")])
        _ = try await theirs.applyPulled(try await mine.nextPendingPush(limit: 100)!.records, through: 1)
        try mine.put("positions", id: "gov:budget", [("stance", "ActiveSupport")])
        try theirs.put("positions", id: "gov:budget", [("stance", "PassiveOpposition")])
        _ = try await mine.applyPulled(try await theirs.nextPendingPush(limit: 100)!.records, through: 2)

        let csv = try mine.exportCSV("positions")
        let lines = csv.split(separator: "\n")
        #expect(lines[0].hasSuffix(",_conflicts"))
        #expect(lines.contains { $0.hasPrefix("gov:budget,") && $0.hasSuffix(",stance") })
        #expect(lines.contains { $0.hasPrefix("gov:shelters,") && $0.hasSuffix(",") })
        let json = try mine.exportJSON("positions")
        #expect(json.contains(#""_conflicts":[{"candidates":["#))
        #expect(json.contains(#""value":"PassiveOpposition""#) && json.contains(#""value":"ActiveSupport""#))

        // Importing the export back does not settle the conflict with the value that
        // happened to be shown; clearing the cell does.
        let before = try mine.digest()
        let report = try mine.importCSV("positions", data: Data(csv.utf8))
        #expect(report.unchanged == 2)
        #expect(try mine.digest() == before)
        #expect(try mine.conflicts().count == 1)
        let cleared = csv.replacingOccurrences(of: ",stance\n", with: ",\n")
        #expect(try mine.importCSV("positions", data: Data(cleared.utf8)).updated == 1)
        #expect(try mine.conflicts().isEmpty)
        // Into a replica without the record, the shown value is taken: the row stays valid.
        let fresh = try ReplicaStore.inMemory(naming: false)
        #expect(try fresh.importCSV("positions", data: Data(csv.utf8)).created == 2)

        // A disputed value edited in the spreadsheet is not written, and the import says so;
        // a row bringing back a deleted record says so too.
        let conflicted = try mine.exportCSV("positions")
        try theirs.put("positions", id: "gov:budget", [("stance", "Neutral")])
        _ = try await mine.applyPulled(try await theirs.nextPendingPush(limit: 100)!.records, through: 3)
        try mine.delete("positions", id: "gov:shelters")
        let report2 = try mine.importCSV("positions", data: Data(conflicted.utf8), dryRun: true)
        #expect(report2.warnings.contains { $0.contains("was deleted on this replica; this import brought it back") })
        let disputedAgain = try await {
            let a = try ReplicaStore.inMemory(name: "A", naming: false, clock: clock.read)
            let b = try ReplicaStore.inMemory(name: "B", naming: false, clock: clock.read)
            try a.put("positions", id: "gov:x", [("stance", "Neutral")])
            _ = try await b.applyPulled(try await a.nextPendingPush(limit: 100)!.records, through: 1)
            try a.put("positions", id: "gov:x", [("stance", "ActiveSupport")])
            try b.put("positions", id: "gov:x", [("stance", "PassiveSupport")])
            _ = try await a.applyPulled(try await b.nextPendingPush(limit: 100)!.records, through: 2)
            let file = try a.exportCSV("positions").replacingOccurrences(of: "Support", with: "Opposition")
            let report = try a.importCSV("positions", data: Data(file.utf8))
            return (report, try a.conflicts().count)
        }()
        #expect(disputedAgain.0.warnings.contains { $0.contains("stance is in conflict and was left as it is") })
        #expect(disputedAgain.1 == 1)
    }

    @Test("dry run validates and counts but writes nothing")
    func dryRun() throws {
        let store = try ReplicaStore.inMemory()
        let report = try store.importCSV("reports", data: Data(Self.reportsCSV(rows: 50).utf8), dryRun: true)
        #expect(report.created == 50 && report.dryRun)
        #expect(try store.list("reports").isEmpty)
        #expect(try store.pendingCount() == 0)
    }

    @Test("malformed files are refused with a reason", arguments: [
        ("title,category\n\"unclosed,BudgetIncrease\n", "never closed"),
        ("title,category\nA,BudgetIncrease,extra\n", "row 2: has 3 cells; the header has 2"),
        ("title,colour\nA,red\n", "the header row has 'colour'"),
        ("title,title\nA,B\n", "appears twice"),
        ("", "the file is empty"),
        ("title,category\nA,NotACategory\n,BudgetIncrease\n", "row 2: category: 'NotACategory' is not one of"),
    ])
    func malformed(_ csv: String, _ expected: String) throws {
        let store = try ReplicaStore.inMemory()
        do {
            _ = try store.importCSV("asks", data: Data(csv.utf8))
            Issue.record("accepted: \(csv)")
        } catch let error as MufakatError {
            #expect(error.message.contains(expected), "\(error.message)")
        }
        #expect(try store.list("asks").isEmpty)
    }

    @Test("the same record twice in one file is named, not merged silently")
    func duplicateRows() throws {
        let store = try ReplicaStore.inMemory()
        let csv = "subject,ask,stance\niom,ask-1,Neutral\nIOM,ask-1,ActiveSupport\n"
        #expect(throws: MufakatError.self) { try store.importCSV("positions", data: Data(csv.utf8)) }
        do {
            _ = try store.importCSV("positions", data: Data(csv.utf8))
        } catch let error as MufakatError {
            #expect(error.message.contains("row 3: is the same record as row 2"))
        }
    }

    /// The import reads the file in 1 MiB chunks: a letter of two, three or four bytes cut
    /// by a chunk's end is still one letter, and a bad byte after the first chunk is still
    /// found — from a file on disk, as `mufakat import` reads it.
    @Test("a file larger than a read chunk: letters cut by a chunk's end read whole; a bad byte far in refuses the file", arguments: [1, 2, 3])
    func chunkBoundaries(_ shift: Int) throws {
        let directory = try TemporaryDirectory("mufakat-csv-chunks")
        var csv = "title,category\n"
        var row = 0
        while csv.utf8.count < (1 << 20) + 4_096 {
            row += 1
            csv += "\(String(repeating: "x", count: shift))Ask é€𐍈 \(row),BudgetIncrease\n"
        }
        let path = directory.path("asks.csv")
        try Data(csv.utf8).write(to: URL(fileURLWithPath: path))
        let store = try ReplicaStore.inMemory()
        let report = try store.importCSV("asks", path: path)
        #expect(report.created == row)
        #expect(try store.list("asks").contains { $0.document["title"] == .string("\(String(repeating: "x", count: shift))Ask é€𐍈 \(row)") })

        var broken = Data(csv.utf8)
        broken.append(contentsOf: [UInt8(ascii: "A"), 0xC3, UInt8(ascii: ","), UInt8(ascii: "B"), UInt8(ascii: "\n")])
        try broken.write(to: URL(fileURLWithPath: path))
        let empty = try ReplicaStore.inMemory()
        #expect(throws: MufakatError.self) { try empty.importCSV("asks", path: path) }
        #expect(try empty.list("asks").isEmpty)
        // A last row without a line end, read from a file, is a row.
        try Data("title,category\nFirst,BudgetIncrease\nLast,BudgetIncrease".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try ReplicaStore.inMemory().importCSV("asks", path: path).created == 2)
        #expect(throws: MufakatError.self) { try ReplicaStore.inMemory().importCSV("asks", path: directory.path("missing.csv")) }
        #expect(throws: MufakatError.self) { try ReplicaStore.inMemory().importCSV("asks", path: directory.path("")) }
        #expect(ReplicaStore.utf8Boundary(Array(Array("ab€".utf8).dropLast())) == 2)
        #expect(ReplicaStore.utf8Boundary(Array("ab€".utf8)) == 5)
    }
}
