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
    public var figures: FigureMatrix
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
        public var periods: [String]
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

        var changes: [PositionChange] = []
        for position in data.positions where position.stanceTime >= start && position.stanceTime < end && !position.stance.isEmpty {
            let history = try Row.fetchOne(
                db, sql: "SELECT old FROM stance_history WHERE id = ? AND new = ? ORDER BY at DESC, rowid DESC LIMIT 1",
                arguments: [position.id, position.stance])
            let old: String? = history?["old"]
            if let old, old == position.stance { continue }
            changes.append(PositionChange(
                subject: data.name(of: position.subject), ask: data.title(ofAsk: position.ask), from: old,
                first: history != nil && old == nil, to: position.stance, by: position.stanceAuthor, time: position.stanceTime))
        }
        changes.sort { ($0.subject, $0.ask) < ($1.subject, $1.ask) }

        let open = data.actions.filter(\.isOpen)
        let overdue = open.filter { $0.isOverdue(today: asOf) }.sorted { ($0.due, $0.title) < ($1.due, $1.title) }
        let due = open.filter { !$0.isOverdue(today: asOf) && $0.due >= first && $0.due < nextMonth }.sorted { ($0.due, $0.title) < ($1.due, $1.title) }

        let periods = Self.periodsEnding(year: year, month: number)
        let figures = try Self.figures(db, scope: scope, periods: periods, threshold: threshold, data: data)
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

    static func figures(_ db: Database, scope: ViewScope, periods: [String], threshold: Int64, data: CoordinationData) throws -> FigureMatrix {
        let marks = periods.map { _ in "?" }.joined(separator: ", ")
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT json_extract(r.document, '$.org') AS org, json_extract(r.document, '$.indicator') AS indicator,
                       SUM(json_extract(r.document, '$.value')) AS total, MIN(json_extract(r.document, '$.value')) AS smallest
                FROM records r
                WHERE r.collection = 'reports' AND r.deleted = 0 AND json_extract(r.document, '$.period') IN (\(marks))
                  AND json_extract(r.document, '$.gender') IS NULL AND json_extract(r.document, '$.ageBroad') IS NULL
                  AND json_extract(r.document, '$.typeOfExploitation') IS NULL AND json_extract(r.document, '$.countryOfExploitation') IS NULL
                  AND COALESCE(json_extract(r.document, '$.status'), 'Submitted') IN ('Submitted', 'Validated')\(scope.and)
                GROUP BY org, indicator
                """, arguments: StatementArguments(periods) + scope.arguments)
        var sums: [String: [String: Int64]] = [:]
        var smallest: [String: [String: Int64]] = [:]
        for row in rows {
            sums[row["org"] ?? "", default: [:]][row["indicator"] ?? ""] = row["total"]
            smallest[row["org"] ?? "", default: [:]][row["indicator"] ?? ""] = row["smallest"]
        }
        let organizations = sums.keys.sorted { data.name(of: $0).lowercased() < data.name(of: $1).lowercased() }
        let indicators = Catalogue.indicators.filter { indicator in sums.values.contains { $0[indicator] != nil } }
        let table = SuppressedTable(
            cells: organizations.map { org in indicators.map { sums[org]?[$0] } },
            smallest: organizations.map { org in indicators.map { smallest[org]?[$0] } }, threshold: threshold)
        return FigureMatrix(periods: periods, organizations: organizations.map(data.name(of:)), indicators: indicators, table: table)
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
