import Foundation
import MufakatCore
import MufakatStore
import Testing
@testable import MufakatViews

/// The brief, the figures table, the public export and the pages, from a replica holding
/// known data.
@Suite("Views: brief, figures, public export, pages")
struct ViewsTests {
    static let month = "2026-11"

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
        try store.new("actions", [("title", "Send the letter | today"), ("owner", "lead"), ("due", "2026-11-03")])
        try store.new("actions", [("title", "Prepare the note"), ("owner", "lead"), ("due", "2026-11-29")])
        try store.new("actions", [("title", "Done already"), ("owner", "lead"), ("due", "2026-11-01"), ("status", "Done")])
        return store
    }

    @Test("the brief in Markdown and HTML shows the same changes, suppressed figures, overdue and due actions")
    func briefBothFormats() async throws {
        let store = try await Self.replica()
        let brief = try store.view { db, scope in try Brief.load(db, scope: scope, month: Self.month, today: "2026-11-20", threshold: 11) }
        #expect(brief.positionChanges.map { "\($0.from ?? "?") → \($0.to)" } == ["Neutral → ActiveSupport"])
        #expect(brief.overdue.map(\.title) == ["Send the letter | today"])
        #expect(brief.due.map(\.title) == ["Prepare the note"])
        let markdown = BriefRenderer.render(brief, format: .md)
        let html = BriefRenderer.render(brief, format: .html)
        #expect(markdown.contains("| Ministry of <Manpower> | Raise the shelter budget | Neutral | Active support | Lia (LEAD) |"))
        #expect(html.contains("<td>Ministry of &lt;Manpower&gt;</td><td>Raise the shelter budget</td><td>Neutral</td>"))
        // Draft (3) and breakdown (5) figures do not count; 7 + 40 identified: holding the 7,
        // the sum is hidden, as is the total; 25 assisted shows.
        #expect(markdown.contains("| Lead Agency | – | 25 | – |"), "\(markdown)")
        #expect(!markdown.contains("47") && !markdown.contains("72"))
        #expect(markdown.contains("| Send the letter \\| today | Lead Agency | 2026-11-03 | Open |"))
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
        #expect(lines.contains("lead,2026-11,ID,East Java,VictimsIdentified,<11,Submitted"))
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
        let followUps = DashboardPages.followUps(data, today: "2026-11-20", viewer: viewer)
        let firstRow = try #require(followUps.range(of: "data-action=")).lowerBound
        #expect(followUps[firstRow...].prefix(200).contains("overdue"))
        #expect(DashboardPages.orderedActions(data, today: "2026-11-20").map(\.title) == ["Send the letter | today", "Prepare the note", "Done already"])
        let signIn = DashboardPages.signIn(next: "/figures?x=\"><script>", error: nil)
        #expect(!signIn.contains("<script>") && signIn.contains("&quot;&gt;&lt;script&gt;"))
    }
}
