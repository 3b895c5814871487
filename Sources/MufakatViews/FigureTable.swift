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
        r.collection = 'reports' AND r.deleted = 0 AND r.conflicted = 0 AND \(whole)
        AND COALESCE(json_extract(r.document, '$.status'), 'Submitted') IN ('Submitted', 'Validated')
        AND json_extract(r.document, '$.value') BETWEEN 0 AND \(FieldType.maxCount)
        """

    /// A report without a breakdown: no gender, age band, type or country of exploitation.
    static let whole = """
        json_extract(r.document, '$.gender') IS NULL AND json_extract(r.document, '$.ageBroad') IS NULL
        AND json_extract(r.document, '$.typeOfExploitation') IS NULL AND json_extract(r.document, '$.countryOfExploitation') IS NULL
        """

    /// Every period within `outer`, itself included: a year's quarters and months, a
    /// quarter's months.
    static func periods(within outer: String) -> [String] {
        switch outer.count {
        case 4: return [outer] + (1...4).map { "\(outer)-Q\($0)" } + (1...12).map { String(format: "%@-%02d", outer, $0) }
        case 7 where outer.contains("-Q"):
            guard let quarter = Int(outer.suffix(1)), let year = outer.split(separator: "-").first else { return [outer] }
            return [outer] + (1...3).map { String(format: "%@-%02d", String(year), (quarter - 1) * 3 + $0) }
        default: return [outer]
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
    /// By area: the countries' own totals (reports without an area), one line below the
    /// totals — never an area beside its parts; `nil` when there are none.
    public var country: SuppressedTable?
    /// How many reports the table reads.
    public var reports: Int

    public static func load(_ db: Database, scope: ViewScope, query: FigureQuery, threshold: Int64, names: [String: String]) throws -> FigureTable {
        let set = try FigureSet.load(db, scope: scope, indicators: [query.indicator], country: query.country)
        let inRange = { (period: String) -> Bool in
            query.granularity.matches(period) && query.from.map { period >= $0 } ?? true && query.to.map { period <= $0 } ?? true
        }
        let shown = set.counted.filter { inRange($0.period) }
        let columns = Set(shown.map(\.period)).sorted()
        // Each organisation's places count once (``FigureSet/countedOnce(_:places:)``). By
        // area, a row is a province, holding the parts of it that count; a country's own
        // total is no area beside its parts: it gets a line of its own, below the totals.
        let lines = FigureSet.countedOnce(shown, places: query.by == .area)
        var spelling: [String: String] = [:]
        for figure in lines where query.by == .area {
            let key = figure.path[0]
            if figure.path.count == 1 || spelling[key] == nil {
                spelling[key] = figure.path.count == 1 ? figure.area : String(figure.area.split(separator: "/")[0]).trimmingCharacters(in: .whitespaces)
            }
        }
        let label = { (figure: FigureSet.Figure) in query.by == .area ? figure.path[0] : figure.org }
        var sums: [String: [String: Int64]] = [:]
        for figure in lines {
            let (sum, overflow) = (sums[label(figure)]?[figure.period] ?? 0).addingReportingOverflow(figure.value)
            sums[label(figure), default: [:]][figure.period] = overflow ? Int64.max : sum
        }
        guard sums.count <= maxRows, columns.count <= maxPeriods else {
            throw MufakatError(
                .invalid,
                "\(sums.count) rows and \(columns.count) periods are more than one table shows (\(maxRows) rows, \(maxPeriods) periods): choose a country, a coarser period or a range")
        }
        let display = { (row: String) in query.by == .area ? spelling[row] ?? row : names[row] ?? row }
        let labels = sums.keys.sorted { display($0).lowercased() < display($1).lowercased() }
        // A cell's smallest figure: every figure that exists under it (any state, whoever
        // may see it), in its periods and its province's parts.
        let places = Dictionary(grouping: set.existing.filter { query.by == .org || !$0.path.isEmpty }) {
            query.by == .area ? $0.path[0] : $0.org
        }
        let smallest = labels.map { row -> [Int64?] in
            let under = Dictionary(grouping: places[row] ?? [], by: \.period)
            return columns.map { period in Figures.periods(within: period).compactMap { under[$0]?.map(\.value).min() }.min() }
        }
        let table = SuppressedTable(
            cells: labels.map { row in columns.map { sums[row]?[$0] } }, smallest: smallest, columns: columns.count, threshold: threshold)
        var country: SuppressedTable?
        if query.by == .area {
            let whole = shown.filter { $0.path.isEmpty }
            if !whole.isEmpty {
                let cells = columns.map { period -> Int64? in
                    let values = whole.filter { $0.period == period }.map(\.value)
                    return values.isEmpty ? nil : SuppressedTable.sum(values) ?? Int64.max
                }
                // The country holds every area: hidden while any figure in it is small.
                let byPeriod = Dictionary(grouping: set.existing, by: \.period)
                country = SuppressedTable(
                    cells: [cells],
                    smallest: [columns.map { period in Figures.periods(within: period).compactMap { byPeriod[$0]?.map(\.value).min() }.min() }],
                    threshold: threshold)
            }
        }
        return FigureTable(
            query: query, rows: labels,
            rowLabels: labels.map(display),
            periods: columns, table: table, country: country, reports: shown.count)
    }

    /// The label of the countries' own totals.
    public static let countryLabel = "whole country, as reported"

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
        if let country {
            lines.append([Self.countryLabel] + country.cells[0].map { $0?.text(threshold: threshold) ?? "" } + [country.rowTotals[0].text(threshold: threshold)])
        }
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
        let set = try FigureSet.load(db, scope: scope, indicators: nil, country: nil)
        struct Cell: Hashable { var org, country, indicator, period: String }
        let small = Dictionary(grouping: set.existing.filter { $0.value < threshold }) {
            Cell(org: $0.org, country: $0.country, indicator: $0.indicator, period: $0.period)
        }
        var rows = [columns]
        let sorted = set.counted.sorted {
            ($0.org, $0.period, $0.country, $0.area, $0.indicator) < ($1.org, $1.period, $1.country, $1.area, $1.indicator)
        }
        for figure in sorted {
            // A figure holding a small one — a finer period, an area of the country it totals,
            // a part of its province; any state, whoever may see it — is hidden: beside it, it
            // would give that figure back.
            let holdsSmall = Figures.periods(within: figure.period).contains { period in
                (small[Cell(org: figure.org, country: figure.country, indicator: figure.indicator, period: period)] ?? []).contains { other in
                    FigureSet.path(other.path, isWithin: figure.path) && !(other.period == figure.period && other.path == figure.path)
                }
            }
            rows.append([
                figure.org, figure.period, figure.country, figure.area, figure.indicator,
                figure.value < threshold ? "<\(threshold)" : holdsSmall ? "–" : String(figure.value), figure.status,
            ])
        }
        return try CSVText.write(rows)
    }
}
