import Foundation
import GRDB
import MufakatCore
import MufakatStore

/// What the figures page and its download show: one indicator, by period and by area or
/// organisation. Every parameter comes from the URL, so a link can be shared.
public struct FigureQuery: Hashable, Sendable {
    public enum Grouping: String, Sendable, CaseIterable {
        case area, org
    }

    public enum Granularity: String, Sendable, CaseIterable {
        case year, quarter, month

        /// Whether `period` (`YYYY`, `YYYY-Qn`, `YYYY-MM`) is of this granularity.
        public func matches(_ period: String) -> Bool {
            switch self {
            case .year: return period.count == 4
            case .quarter: return period.contains("-Q")
            case .month: return period.count == 7 && !period.contains("-Q")
            }
        }
    }

    public var indicator: String
    public var by: Grouping
    public var granularity: Granularity
    /// A country (ISO code) or all.
    public var country: String?
    /// Periods from and to (inclusive, compared as text), or open.
    public var from: String?
    public var to: String?

    public init(
        indicator: String = "VictimsIdentified", by: Grouping = .area, granularity: Granularity = .quarter, country: String? = nil,
        from: String? = nil, to: String? = nil
    ) {
        self.indicator = indicator
        self.by = by
        self.granularity = granularity
        self.country = country
        self.from = from
        self.to = to
    }

    /// Reads a query from URL parameters, naming the first bad one and what it accepts.
    public init(parameters: [String: String]) throws(MufakatError) {
        self.init()
        if let indicator = parameters["indicator"], !indicator.isEmpty {
            guard let known = Catalogue.indicators.first(where: { $0.lowercased() == indicator.lowercased() }) else {
                throw MufakatError(.invalid, "indicator '\(indicator)' is not one of \(Catalogue.indicators.joined(separator: ", "))")
            }
            self.indicator = known
        }
        if let by = parameters["by"], !by.isEmpty {
            guard let grouping = Grouping(rawValue: by) else { throw MufakatError(.invalid, "by '\(by)' is not area or org") }
            self.by = grouping
        }
        if let period = parameters["period"], !period.isEmpty {
            guard let granularity = Granularity(rawValue: period) else {
                throw MufakatError(.invalid, "period '\(period)' is not year, quarter or month")
            }
            self.granularity = granularity
        }
        if let country = parameters["country"], !country.isEmpty {
            guard case .success = FieldType.country.parse(country) else {
                throw MufakatError(.invalid, "country '\(country)' is not an ISO 3166-1 alpha-2 code, e.g. ID")
            }
            self.country = country.uppercased()
        }
        for (name, value) in [("from", parameters["from"]), ("to", parameters["to"])] {
            guard let value, !value.isEmpty else { continue }
            guard case .success = FieldType.period.parse(value) else {
                throw MufakatError(.invalid, "\(name) '\(value)' is not a period: 2025, 2025-Q3 or 2025-07")
            }
            if name == "from" { from = value.uppercased() } else { to = value.uppercased() }
        }
    }

    /// The URL query that gives this query back.
    public var queryString: String {
        var items = [("indicator", indicator), ("by", by.rawValue), ("period", granularity.rawValue)]
        if let country { items.append(("country", country)) }
        if let from { items.append(("from", from)) }
        if let to { items.append(("to", to)) }
        return items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? $0.1)" }.joined(separator: "&")
    }
}

/// Which reports count as figures, and how periods nest.
public enum Figures {
    /// Live reports without disaggregation (no gender, age band, type or country of
    /// exploitation — a breakdown beside its total would count people twice), submitted or
    /// validated (a Draft is not yet a figure; Retracted no longer is; none before statuses
    /// counts), not in conflict (a disputed figure, or a status disputed between Draft
    /// and Submitted, waits for a person), and holding a count the catalogue accepts (one
    /// stored before counts were bounded, or by a broken peer, is no figure: summed, it could
    /// overflow).
    static let counting = """
        r.collection = 'reports' AND r.deleted = 0 AND r.conflicted = 0
        AND json_extract(r.document, '$.gender') IS NULL AND json_extract(r.document, '$.ageBroad') IS NULL
        AND json_extract(r.document, '$.typeOfExploitation') IS NULL AND json_extract(r.document, '$.countryOfExploitation') IS NULL
        AND COALESCE(json_extract(r.document, '$.status'), 'Submitted') IN ('Submitted', 'Validated')
        AND json_extract(r.document, '$.value') BETWEEN 0 AND \(FieldType.maxCount)
        """

    /// Whether period `inner` lies within `outer` (itself included): a month in its quarter
    /// and year, a quarter in its year.
    public static func period(_ inner: String, isWithin outer: String) -> Bool {
        if inner == outer { return true }
        guard inner.count == 7, inner.hasPrefix(outer.prefix(4)), inner != outer else { return false }
        switch outer.count {
        case 4: return true
        case 7 where outer.contains("-Q") && !inner.contains("-Q"):
            guard let quarter = Int(outer.suffix(1)), let month = Int(inner.suffix(2)) else { return false }
            return (month - 1) / 3 + 1 == quarter
        default: return false
        }
    }
}

/// An indicator's figures as a table: rows (areas or organisations) × periods, summed over
/// the figures that count, with small counts suppressed (``SuppressedTable``). A cell's
/// smallest figure includes the figures of periods within its own (the months of a
/// quarter): a quarter shown beside its months would give a small month back.
///
/// Counted: live reports of the indicator without disaggregation (no gender, age band, type
/// or country of exploitation — a breakdown beside its total would count people twice) and
/// whose status is Submitted or Validated (a Draft is not yet a figure; Retracted no longer
/// is). A report without a status, entered before statuses, counts.
public struct FigureTable: Sendable {
    public var query: FigureQuery
    public var rows: [String]
    public var rowLabels: [String]
    public var periods: [String]
    public var table: SuppressedTable
    /// How many reports were summed.
    public var reports: Int

    public static func load(_ db: Database, scope: ViewScope, query: FigureQuery, threshold: Int64, names: [String: String]) throws -> FigureTable {
        var conditions = [Figures.counting, "json_extract(r.document, '$.indicator') = ?"]
        var arguments: [any DatabaseValueConvertible] = [query.indicator]
        if let country = query.country {
            conditions.append("json_extract(r.document, '$.country') = ?")
            arguments.append(country)
        }
        let group = query.by == .area ? "COALESCE(json_extract(r.document, '$.area'), '')" : "json_extract(r.document, '$.org')"
        var sums: [String: [String: Int64]] = [:]
        var smallest: [String: [String: Int64]] = [:]
        var periods = Set<String>()
        var count = 0
        let statementArguments = StatementArguments(arguments) + scope.arguments
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT \(group) AS label, json_extract(r.document, '$.period') AS period,
                       SUM(json_extract(r.document, '$.value')) AS total, MIN(json_extract(r.document, '$.value')) AS smallest,
                       COUNT(*) AS n
                FROM records r WHERE \(conditions.joined(separator: " AND "))\(scope.and)
                GROUP BY label, period
                """, arguments: statementArguments)
        var finer: [String: [(period: String, smallest: Int64)]] = [:]
        while let row = try rows.next() {
            let period: String = row["period"] ?? ""
            let label: String = row["label"] ?? ""
            finer[label, default: []].append((period, row["smallest"] ?? 0))
            guard query.granularity.matches(period) else { continue }
            if let from = query.from, period < from { continue }
            if let to = query.to, period > to { continue }
            sums[label, default: [:]][period] = row["total"]
            periods.insert(period)
            count += row["n"] as Int
        }
        guard sums.count <= maxRows, periods.count <= maxPeriods else {
            throw MufakatError(
                .invalid,
                "\(sums.count) rows and \(periods.count) periods are more than one table shows (\(maxRows) rows, \(maxPeriods) periods): choose a country, a coarser period or a range")
        }
        for (label, cells) in sums {
            for period in cells.keys {
                smallest[label, default: [:]][period] = finer[label, default: []]
                    .filter { Figures.period($0.period, isWithin: period) }.map(\.smallest).min()
            }
        }
        let labels = sums.keys.sorted { (names[$0] ?? $0).lowercased() < (names[$1] ?? $1).lowercased() }
        let columns = periods.sorted()
        let table = SuppressedTable(
            cells: labels.map { label in columns.map { sums[label]?[$0] } },
            smallest: labels.map { label in columns.map { smallest[label]?[$0] } }, threshold: threshold)
        return FigureTable(
            query: query, rows: labels,
            rowLabels: labels.map { label in
                query.by == .area ? (label.isEmpty ? "(whole country)" : label) : (names[label] ?? label)
            },
            periods: columns, table: table, reports: count)
    }

    public static let maxRows = 400
    public static let maxPeriods = 150

    /// The table as shown, as CSV: a label column, one per period, and the total; every
    /// suppressed count as the page shows it.
    public func csv() throws -> String {
        let threshold = table.threshold
        var lines: [[String]] = [[query.by == .area ? "area" : "organization"] + periods + ["total"]]
        for (index, label) in rowLabels.enumerated() {
            lines.append([label] + table.cells[index].map { $0?.text(threshold: threshold) ?? "" } + [table.rowTotals[index].text(threshold: threshold)])
        }
        lines.append(["total"] + table.columnTotals.map { $0.text(threshold: threshold) } + [table.grandTotal.text(threshold: threshold)])
        return try CSVText.write(lines)
    }
}

/// Figures fit for people outside the coalition (`mufakat export reports --public`): the
/// reports that count (as ``FigureTable`` counts them: submitted or validated, without
/// disaggregation), one row each, every value below the threshold written `<k`. Breakdowns
/// are left out: beside their total they would let a reader work out a hidden one. No
/// totals are written, so none can give a hidden value back.
public enum PublicFigures {
    public static let columns = ["org", "period", "country", "area", "indicator", "value", "status"]

    public static func csv(_ db: Database, scope: ViewScope, threshold: Int64) throws -> String {
        var rows = [columns]
        let all = try Row.fetchAll(
            db,
            sql: """
                SELECT json_extract(r.document, '$.org') AS org, json_extract(r.document, '$.period') AS period,
                       json_extract(r.document, '$.country') AS country, COALESCE(json_extract(r.document, '$.area'), '') AS area,
                       json_extract(r.document, '$.indicator') AS indicator, json_extract(r.document, '$.value') AS value,
                       COALESCE(json_extract(r.document, '$.status'), '') AS status
                FROM records r WHERE \(Figures.counting)\(scope.and)
                ORDER BY org, period, country, area, indicator
                """, arguments: scope.arguments)
        // A figure whose period holds a small finer one (a quarter and its months) would give
        // it back beside them: hidden.
        var small: [String: [String]] = [:]
        for row in all where (row["value"] as Int64? ?? 0) < threshold {
            small[key(row), default: []].append(row["period"] ?? "")
        }
        for row in all {
            let value: Int64 = row["value"] ?? 0
            let period: String = row["period"] ?? ""
            let holdsSmall = small[key(row), default: []].contains { Figures.period($0, isWithin: period) }
            rows.append([
                row["org"] ?? "", period, row["country"] ?? "", row["area"] ?? "", row["indicator"] ?? "",
                value < threshold ? "<\(threshold)" : holdsSmall ? "–" : String(value), row["status"] ?? "",
            ])
        }
        return try CSVText.write(rows)
    }

    static func key(_ row: Row) -> String {
        let org: String = row["org"] ?? ""
        let country: String = row["country"] ?? ""
        let area: String = row["area"] ?? ""
        let indicator: String = row["indicator"] ?? ""
        return [org, country, area, indicator].joined(separator: "\u{1}")
    }
}
