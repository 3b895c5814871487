import Foundation
import GRDB
import MufakatCore
import MufakatStore
import Testing
@testable import MufakatViews

/// The brief, the figures table, the public export and the pages, from a replica holding
/// known data.
@Suite("Views: brief, figures, public export, pages")
struct ViewsTests {
    /// This month: the stance history notes changes when the store sees them, now.
    static let month = String(Brief.today().prefix(7))

    /// A coordinator's replica: a ministry whose stance moved, figures (7 below the
    /// threshold), one overdue action and one due later this month, a conflict.
    static func replica() async throws -> ReplicaStore {
        let store = try ReplicaStore.inMemory(name: "Lia (LEAD)")
        _ = try await store.noteAccess(Writer(org: "lead", role: .coordinator))
        try store.put("organizations", id: "lead", [("name", "Lead Agency"), ("type", "UNAgency")])
        try store.put("organizations", id: "kemnaker", [("name", "Ministry of <Manpower>"), ("type", "CentralGovernment")])
        try store.put("asks", id: "ask-budget", [("title", "Raise the shelter budget"), ("category", "BudgetIncrease")])
        try store.put("positions", id: "kemnaker:ask-budget", [("stance", "Neutral")])
        try store.put("positions", id: "kemnaker:ask-budget", [("stance", "ActiveSupport")])
        for (area, indicator, value) in [("East Java", "VictimsIdentified", "7"), ("Central Java", "VictimsIdentified", "40"), ("Central Java", "VictimsAssisted", "25")] {
            try store.new("reports", [
                ("org", "lead"), ("period", month), ("country", "ID"), ("area", area), ("indicator", indicator), ("value", value), ("status", "Submitted"),
            ])
        }
        try store.new("reports", [("org", "lead"), ("period", month), ("country", "ID"), ("area", "Bali"), ("indicator", "VictimsIdentified"), ("value", "3"), ("status", "Draft")])
        try store.new("reports", [("org", "lead"), ("period", month), ("country", "ID"), ("area", "Bali"), ("indicator", "VictimsIdentified"), ("value", "5"), ("gender", "Female"), ("status", "Submitted")])
        try store.new("actions", [("title", "Send the letter | today"), ("owner", "lead"), ("due", "\(month)-03")])
        try store.new("actions", [("title", "Prepare the note"), ("owner", "lead"), ("due", "\(month)-28")])
        try store.new("actions", [("title", "Done already"), ("owner", "lead"), ("due", "\(month)-01"), ("status", "Done")])
        return store
    }

    @Test("the brief in Markdown and HTML shows the same changes, suppressed figures, overdue and due actions")
    func briefBothFormats() async throws {
        let store = try await Self.replica()
        let brief = try store.view { db, scope in try Brief.load(db, scope: scope, month: ViewsTests.month, today: "\(ViewsTests.month)-20", threshold: 11) }
        // Entered this month, changed this month: from nothing (a first assessment) to where it is.
        #expect(brief.positionChanges.map { "\($0.first ? "first" : $0.from ?? "?") → \($0.to)" } == ["first → ActiveSupport"])
        #expect(brief.overdue.map(\.title) == ["Send the letter | today"])
        #expect(brief.due.map(\.title) == ["Prepare the note"])
        let markdown = BriefRenderer.render(brief, format: .md)
        let html = BriefRenderer.render(brief, format: .html)
        #expect(markdown.contains("| Ministry of &lt;Manpower&gt; | Raise the shelter budget | (first assessment) | Active support | Lia (LEAD) |"))
        #expect(html.contains("<td>Ministry of &lt;Manpower&gt;</td><td>Raise the shelter budget</td><td>(first assessment)</td>"))
        // Draft (3) and breakdown (5) figures do not count; 7 + 40 identified: holding the 7,
        // the sum is hidden, as is the total; 25 assisted shows.
        #expect(markdown.contains("| Lead Agency | – | 25 | – |"), "\(markdown)")
        #expect(!markdown.contains("47") && !markdown.contains("72"))
        #expect(markdown.contains("| Send the letter \\| today | Lead Agency | \(ViewsTests.month)-03 | Open |"))
        #expect(html.contains("<tr class=\"overdue\"><td>Send the letter | today</td>"))
        #expect(!html.contains("<script"))
        #expect(throws: MufakatError.self) { try Brief.month("2026-13") }
    }

    @Test("figures by area: 7 shows as <11 in the table, its totals are hidden, and the CSV is the table as shown")
    func figures() async throws {
        let store = try await Self.replica()
        let table = try store.view { db, scope in
            try FigureTable.load(db, scope: scope, query: FigureQuery(indicator: "VictimsIdentified", by: .area, granularity: .month), threshold: 11, names: [:])
        }
        #expect(table.rowLabels == ["Central Java", "East Java"])
        #expect(table.table.cells.map { $0.map { $0?.text(threshold: 11) } } == [["40"], ["<11"]])
        #expect(table.table.columnTotals == [.hidden] && table.table.grandTotal == .hidden)
        let csv = try table.csv()
        #expect(csv.contains("East Java,<11,–"))
        #expect(!csv.contains("47") && !csv.split(whereSeparator: { !$0.isNumber }).contains("7"))
        #expect(throws: MufakatError.self) { try FigureQuery(parameters: ["indicator": "Nonsense"]) }
        #expect(try FigureQuery(parameters: ["indicator": "victimsidentified", "by": "org", "period": "year", "country": "id", "from": "2025"]).queryString
            == "indicator=VictimsIdentified&by=org&period=year&country=ID&from=2025")
    }

    @Test("the public export writes counting figures only, each small count as <11")
    func publicExport() async throws {
        let store = try await Self.replica()
        let csv = try store.view { db, scope in try PublicFigures.csv(db, scope: scope, threshold: 11) }
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines.first == PublicFigures.columns.joined(separator: ","))
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.contains("lead,\(ViewsTests.month),ID,East Java,VictimsIdentified,<11,Submitted"))
        #expect(!lines.contains { $0.contains("Draft") || $0.contains("Bali") })
    }

    @Test("pages escape what people typed, mark conflicts and overdue actions, and carry no script")
    func pages() async throws {
        let store = try await Self.replica()
        let data = try store.view { db, scope in try CoordinationData.load(db, scope: scope) }
        let viewer = DashboardPages.Viewer(name: "Lia", org: "lead", role: "coordinator")
        let positions = DashboardPages.positions(data, viewer: viewer)
        #expect(positions.contains("Ministry of &lt;Manpower&gt;"))
        #expect(!positions.contains("<Manpower>") && !positions.contains("<script"))
        #expect(positions.contains("stance-active-support"))
        let followUps = DashboardPages.followUps(data, today: "\(ViewsTests.month)-20", viewer: viewer)
        let firstRow = try #require(followUps.range(of: "data-action=")).lowerBound
        #expect(followUps[firstRow...].prefix(200).contains("overdue"))
        #expect(DashboardPages.orderedActions(data, today: "\(ViewsTests.month)-20").map(\.title) == ["Send the letter | today", "Prepare the note", "Done already"])
        let signIn = DashboardPages.signIn(next: "/figures?x=\"><script>", error: nil)
        #expect(!signIn.contains("<script>") && signIn.contains("&quot;&gt;&lt;script&gt;"))
    }
}

/// What the second review found: figures recovered across period granularities, disputed
/// figures counted, text that a spreadsheet or a Markdown viewer would run.
@Suite("Views: figures across periods, disputed figures, text that runs")
struct ViewsReviewTests {
    @Test("a quarter beside its months: the quarter holding a small month is hidden on the page and in the public export")
    func quarterAndMonths() async throws {
        let store = try ReplicaStore.inMemory(name: "Lia (LEAD)")
        let base = [("org", "lead"), ("country", "ID"), ("area", "Aceh"), ("indicator", "Returnees"), ("status", "Submitted")]
        try store.new("reports", base + [("period", "2026-Q1"), ("value", "30")])
        for (month, value) in [("2026-01", "12"), ("2026-02", "13"), ("2026-03", "5")] {
            try store.new("reports", base + [("period", month), ("value", value)])
        }
        let quarters = try store.view { db, scope in
            try FigureTable.load(db, scope: scope, query: FigureQuery(indicator: "Returnees", granularity: .quarter), threshold: 11, names: [:])
        }
        #expect(quarters.table.cells == [[.hidden]], "30 − 12 − 13 would give the 5 back")
        let export = try store.view { db, scope in try PublicFigures.csv(db, scope: scope, threshold: 11) }
        #expect(export.contains("lead,2026-Q1,ID,Aceh,Returnees,–,Submitted"))
        #expect(!export.contains(",30,") && export.contains(",<11,"))
    }

    @Test("a figure in conflict counts nowhere until a person settles it")
    func conflictedFigure() async throws {
        let store = try ReplicaStore.inMemory(name: "Lia (LEAD)")
        let id = try store.new("reports", [
            ("org", "lead"), ("period", "2026-01"), ("country", "ID"), ("indicator", "Returnees"), ("value", "40"), ("status", "Submitted"),
        ]).id
        var other = RecordState()
        try other.write(["status": .string("Draft")], dot: Dot(replica: try ReplicaID("b0b0b0b0b0b0b0b0"), counter: 1), now: 1_900_000_000_000, author: "Budi (NGO-B)")
        var state = try #require(try store.state("reports", id: id))
        try state.merge(try RecordState(context: other.context, fields: other.fields))
        _ = try await store.applyPulled([ReplicatedRecord(collection: "reports", id: id, state: state)], through: 1)
        let export = try store.view { db, scope in try PublicFigures.csv(db, scope: scope, threshold: 11) }
        #expect(export.split(separator: "\n").count == 1, "\(export)")
    }

    @Test("CSV cells a spreadsheet would run are defused; Markdown cells carry no raw HTML")
    func textThatRuns() throws {
        let csv = try CSVText.write([["=HYPERLINK(\"http://evil\")", "-5", "@x", "plain", "12"]])
        #expect(csv.hasPrefix("\"'=HYPERLINK(\"\"http://evil\"\")\",-5,'@x,plain,12"), "\(csv)")
        #expect(Templates.markdownCell("<script>alert(1)</script> | x") == "&lt;script&gt;alert(1)&lt;/script&gt; \\| x")
    }

    /// Issue 28: two figures of 9,223,372,036,854,775,000 overflowed the figures page's sum
    /// and crashed the hub; the brief crashed every laptop. A replica holding such counts
    /// (stored before counts were bounded) is made here by editing its file, as an older
    /// hub's data would arrive.
    @Test("counts past the catalogue's bound crash no page, CSV or brief: they are no figures, and totals past 64 bits are hidden")
    func hugeCounts() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("huge-\(UUID().uuidString)").path
        let path = (folder as NSString).appendingPathComponent(ReplicaStore.fileName)
        let store = try ReplicaStore.create(at: path, hub: "localhost:7420", token: "t", name: "Lia (LEAD)")
        _ = try await store.noteAccess(Writer(org: "lead", role: .coordinator))
        for org in ["lead", "iom"] {
            try store.new("reports", [
                ("org", org), ("period", ViewsTests.month), ("country", "ID"), ("area", "East Java"), ("indicator", "VictimsIdentified"),
                ("value", "40"), ("status", "Submitted"),
            ])
        }
        try store.new("reports", [
            ("org", "lead"), ("period", ViewsTests.month), ("country", "ID"), ("area", "Bali"), ("indicator", "VictimsIdentified"),
            ("value", "30"), ("status", "Submitted"),
        ])
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: """
                UPDATE records SET document = json_set(document, '$.value', 9223372036854775000)
                WHERE collection = 'reports' AND json_extract(document, '$.area') = 'East Java'
                """)
        }
        try queue.close()
        for by in [FigureQuery.Grouping.area, .org] {
            let table = try store.view { db, scope in
                try FigureTable.load(db, scope: scope, query: FigureQuery(by: by, granularity: .month), threshold: 11, names: [:])
            }
            #expect(table.reports == 1, "only Bali's 30 counts")
            #expect(table.rowLabels == [by == .area ? "Bali" : "lead"])
            #expect(try !table.csv().contains("9223372036854775"))
        }
        let brief = try store.view { db, scope in try Brief.load(db, scope: scope, month: ViewsTests.month, today: "\(ViewsTests.month)-20", threshold: 11) }
        #expect(!BriefRenderer.render(brief, format: .md).contains("9223372036854775"))
        let export = try store.view { db, scope in try PublicFigures.csv(db, scope: scope, threshold: 11) }
        #expect(!export.contains("9223372036854775") && export.contains("30"))
        // Whatever reaches a table, a total past 64 bits is hidden, not a trap.
        let table = SuppressedTable(cells: [[Int64.max, 20], [Int64.max, 30]], threshold: 11)
        #expect(table.rowTotals == [.hidden, .hidden] && table.grandTotal == .hidden)
        #expect(table.columnTotals == [.hidden, .value(50)])
    }

    /// Issue 28: Markdown links and images typed into titles passed into brief.md.
    @Test("the brief's Markdown carries no link, image or emphasis typed into a title; the HTML shows the text as typed")
    func markdownDefused() async throws {
        let store = try await ViewsTests.replica()
        let title = "[minutes](http://evil.example) ![x](http://evil.example/p.png) *big* `code` ~x~ <b>"
        try store.new("actions", [("title", title), ("owner", "lead"), ("due", "\(ViewsTests.month)-02")])
        let brief = try store.view { db, scope in try Brief.load(db, scope: scope, month: ViewsTests.month, today: "\(ViewsTests.month)-20", threshold: 11) }
        let markdown = BriefRenderer.render(brief, format: .md)
        #expect(markdown.contains("\\[minutes\\](http://evil.example) \\!\\[x\\](http://evil.example/p.png) \\*big\\* \\`code\\` \\~x\\~ &lt;b&gt;"), "\(markdown)")
        #expect(!markdown.contains("[minutes]("))
        #expect(!markdown.contains("![x]("))
        let html = BriefRenderer.render(brief, format: .html)
        #expect(html.contains("[minutes](http://evil.example) ![x](http://evil.example/p.png) *big*"))
        #expect(!html.contains("<b>"))
    }
}
