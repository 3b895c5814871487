import Foundation
import GRDB
import MufakatCore
import MufakatStore

/// The monthly meeting brief: positions that changed in the month (from → to, by whom),
/// the figures of the periods that end in it (small counts suppressed), actions due and
/// overdue, and the conflicts waiting for a person. Built from a replica (`mufakat brief`,
/// offline) or from the hub's data (the dashboard) by the same code, and rendered by one
/// renderer (``BriefRenderer``) as Markdown or HTML.
public struct Brief: Sendable {
    /// `YYYY-MM`.
    public var month: String
    public var monthName: String
    /// The day actions are judged overdue against, `YYYY-MM-DD`.
    public var asOf: String
    public var threshold: Int64
    public var positionChanges: [PositionChange]
    /// One table per period that ends in the month (the month; its quarter; its year).
    public var figures: [FigureMatrix]
    public var overdue: [CoordinationData.Action]
    public var due: [CoordinationData.Action]
    public var conflicts: [CoordinationData.Conflict]
    public var data: CoordinationData

    public struct PositionChange: Sendable, Hashable {
        public var subject: String
        public var ask: String
        /// The stance before, when this store saw it change; `nil`: unknown (changed before
        /// the store kept stance history) or the first assessment (`first`).
        public var from: String?
        public var first: Bool
        public var to: String
        public var by: String
        public var time: Int64
    }

    /// Figures of one month's periods: organisations × indicators, suppressed.
    public struct FigureMatrix: Sendable {
        public var period: String
        public var organizations: [String]
        public var indicators: [String]
        public var table: SuppressedTable
    }

    /// Parses `YYYY-MM`, naming what is accepted.
    public static func month(_ text: String) throws(MufakatError) -> (year: Int, month: Int) {
        let parts = text.split(separator: "-")
        guard text.count == 7, parts.count == 2, let year = Int(parts[0]), let month = Int(parts[1]), (1900...2199).contains(year),
            (1...12).contains(month)
        else {
            throw MufakatError(.invalid, "month '\(text)' is not YYYY-MM, e.g. 2026-11", value: text)
        }
        return (year, month)
    }

    /// Builds the brief of `month` (`YYYY-MM`) on `today` (`YYYY-MM-DD`, for what is overdue).
    public static func load(_ db: Database, scope: ViewScope, month: String, today: String, threshold: Int64) throws -> Brief {
        let (year, number) = try Self.month(month)
        let first = String(format: "%04d-%02d-01", year, number)
        let nextMonth = number == 12 ? String(format: "%04d-01-01", year + 1) : String(format: "%04d-%02d-01", year, number + 1)
        let data = try CoordinationData.load(db, scope: scope)
        // Judged on the month's last day for a past month, its first for a future one.
        let asOf = today < first ? first : today >= nextMonth ? Self.dayBefore(nextMonth) : today
        let (start, end) = (Self.milliseconds(first), Self.milliseconds(nextMonth))

        // From the stance as this store held it when the month began to the one it held when
        // the month ended (its stance history); who and when from the shown stance's write
        // when that is the month's last. A store without history for a position (changed
        // before it kept any) shows a change of the month without its "from".
        var changes: [PositionChange] = []
        for position in data.positions where !position.stance.isEmpty {
            let history = try Row.fetchAll(
                db, sql: "SELECT old, new, at FROM stance_history WHERE id = ? ORDER BY at, rowid", arguments: [position.id])
            let inMonth = history.filter { (start..<end).contains($0["at"] as Int64) }
            let change: PositionChange
            if let firstRow = inMonth.first, let lastRow = inMonth.last {
                let from: String? = firstRow["old"]
                let to: String? = lastRow["new"]
                guard let to, from != to else { continue }
                let isShown = to == position.stance
                change = PositionChange(
                    subject: data.name(of: position.subject), ask: data.title(ofAsk: position.ask), from: from,
                    first: from == nil && history.first.map { ($0["at"] as Int64) >= start } == true, to: to,
                    by: isShown ? position.stanceAuthor : "—", time: isShown ? position.stanceTime : lastRow["at"])
            } else if history.isEmpty, (start..<end).contains(position.stanceTime) {
                change = PositionChange(
                    subject: data.name(of: position.subject), ask: data.title(ofAsk: position.ask), from: nil, first: false,
                    to: position.stance, by: position.stanceAuthor, time: position.stanceTime)
            } else {
                continue
            }
            changes.append(change)
        }
        changes.sort { ($0.subject, $0.ask) < ($1.subject, $1.ask) }

        let open = data.actions.filter(\.isOpen)
        let overdue = open.filter { $0.isOverdue(today: asOf) }.sorted { ($0.due, $0.title) < ($1.due, $1.title) }
        let due = open.filter { !$0.isOverdue(today: asOf) && $0.due >= first && $0.due < nextMonth }.sorted { ($0.due, $0.title) < ($1.due, $1.title) }

        let figures = try Self.figures(db, scope: scope, year: year, periods: Self.periodsEnding(year: year, month: number), threshold: threshold, data: data)
        return Brief(
            month: month, monthName: Self.monthName(year: year, month: number), asOf: asOf, threshold: threshold,
            positionChanges: changes, figures: figures, overdue: overdue, due: due, conflicts: data.conflicts, data: data)
    }

    /// The periods that end in a month: the month, its quarter when the month ends one, and
    /// the year in December.
    static func periodsEnding(year: Int, month: Int) -> [String] {
        var periods = [String(format: "%04d-%02d", year, month)]
        if month % 3 == 0 { periods.append("\(year)-Q\(month / 3)") }
        if month == 12 { periods.append(String(year)) }
        return periods
    }

    /// A table per period: organisations × indicators, each cell's smallest figure taken
    /// over every figure under it — the periods within it (a quarter beside its months would
    /// give a small month back), its areas, in any state. Periods without figures are left
    /// out.
    static func figures(
        _ db: Database, scope: ViewScope, year: Int, periods: [String], threshold: Int64, data: CoordinationData
    ) throws -> [FigureMatrix] {
        let set = try FigureSet.load(db, scope: scope, indicators: nil, country: nil, year: String(format: "%04d", year))
        // Each organisation's places counted once: a country's own total stands for its areas.
        let counted = FigureSet.countedOnce(set.counted)
        return periods.compactMap { period -> FigureMatrix? in
            let here = counted.filter { $0.period == period }
            guard !here.isEmpty else { return nil }
            let within = Set(Figures.periods(within: period))
            let existing = set.existing.filter { within.contains($0.period) }
            let organizations = Set(here.map(\.org)).sorted { data.name(of: $0).lowercased() < data.name(of: $1).lowercased() }
            let indicators = Catalogue.indicators.filter { indicator in here.contains { $0.indicator == indicator } }
            let cell = { (org: String, indicator: String) -> Int64? in
                let values = here.filter { $0.org == org && $0.indicator == indicator }.map(\.value)
                return values.isEmpty ? nil : SuppressedTable.sum(values) ?? Int64.max
            }
            // Every figure under a cell, in any state and whoever may see it (``FigureSet``).
            let least = { (org: String, indicator: String) -> Int64? in
                existing.filter { $0.org == org && $0.indicator == indicator }.map(\.value).min()
            }
            let table = SuppressedTable(
                cells: organizations.map { org in indicators.map { cell(org, $0) } },
                smallest: organizations.map { org in indicators.map { least(org, $0) } }, threshold: threshold)
            return FigureMatrix(period: period, organizations: organizations.map(data.name(of:)), indicators: indicators, table: table)
        }
    }

    static func milliseconds(_ day: String) -> Int64 {
        Int64((ISO8601DateFormatter().date(from: day + "T00:00:00Z")?.timeIntervalSince1970 ?? 0) * 1000)
    }

    static func dayBefore(_ day: String) -> String {
        let date = ISO8601DateFormatter().date(from: day + "T00:00:00Z")!.addingTimeInterval(-86_400)
        return String(ISO8601DateFormatter().string(from: date).prefix(10))
    }

    static func monthName(year: Int, month: Int) -> String {
        let names = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        return "\(names[month - 1]) \(year)"
    }

    /// Today as `YYYY-MM-DD` (UTC).
    public static func today(_ now: Date = Date()) -> String {
        String(ISO8601DateFormatter().string(from: now).prefix(10))
    }
}
