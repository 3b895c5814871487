import GRDB
import MufakatCore
import MufakatStore

/// The reports the figure views read, in the two roles they play.
///
/// - **Counted** figures are summed into what a reader sees: the reports that count
///   (``Figures/counting``) among those the reader may receive.
/// - **Existing** figures decide what must be hidden: every report of the indicator without
///   a breakdown, in any state — draft, disputed, retracted, deleted — and whoever may see
///   it. A quarter shown beside its months gives back a month that no longer counts (a draft,
///   a disputed figure) by subtraction as surely as one that does; a reader who cannot see
///   another organisation's draft can still subtract it out. So a coarser number is hidden
///   while any figure under it is small, whatever that figure's state. (Breakdowns — by
///   gender, age, type or country of exploitation — are shown nowhere, so no difference
///   reaches them.) A disputed figure counts with its smallest candidate.
///
/// **Places nest.** A report without an area is its country's own total: the figures of
/// every area of that country lie within it. An area written `Province / District` lies
/// within `Province`; any other two area texts are two places.
struct FigureSet {
    struct Figure: Hashable {
        var org: String
        var country: String
        /// Empty: the whole country.
        var area: String
        var period: String
        var indicator: String
        var value: Int64
        var status: String
    }

    var counted: [Figure]
    var existing: [Figure]

    /// Loads the figures of `indicators` (every indicator when `nil`), of one country or all,
    /// with periods in a year (`year`, `YYYY`) or any.
    static func load(
        _ db: Database, scope: ViewScope, indicators: [String]?, country: String?, year: String? = nil
    ) throws -> FigureSet {
        var conditions = ["r.collection = 'reports'", Figures.whole]
        var arguments: [any DatabaseValueConvertible] = []
        if let indicators {
            conditions.append("json_extract(r.document, '$.indicator') IN (\(indicators.map { _ in "?" }.joined(separator: ",")))")
            arguments += indicators
        }
        if let country {
            conditions.append("json_extract(r.document, '$.country') = ?")
            arguments.append(country)
        }
        if let year {
            conditions.append("substr(json_extract(r.document, '$.period'), 1, 4) = ?")
            arguments.append(year)
        }
        let columns = """
            json_extract(r.document, '$.org') AS org, json_extract(r.document, '$.country') AS country,
            COALESCE(json_extract(r.document, '$.area'), '') AS area, json_extract(r.document, '$.period') AS period,
            json_extract(r.document, '$.indicator') AS indicator, json_extract(r.document, '$.value') AS value,
            COALESCE(json_extract(r.document, '$.status'), '') AS status
            """
        func figure(_ row: Row, value: Int64? = nil) -> Figure {
            Figure(
                org: row["org"] ?? "", country: row["country"] ?? "", area: row["area"] ?? "", period: row["period"] ?? "",
                indicator: row["indicator"] ?? "", value: value ?? row["value"] ?? 0, status: row["status"] ?? "")
        }
        let counted = try Row.fetchAll(
            db, sql: "SELECT \(columns) FROM records r WHERE \(conditions.joined(separator: " AND ")) AND \(Figures.counting)\(scope.and)",
            arguments: StatementArguments(arguments) + scope.arguments
        ).map { figure($0) }
        // Every report, whoever may see it: a disputed one with its smallest candidate.
        var existing: [Figure] = []
        let rows = try Row.fetchCursor(
            db, sql: "SELECT \(columns), r.conflicted, r.state FROM records r WHERE \(conditions.joined(separator: " AND "))",
            arguments: StatementArguments(arguments))
        while let row = try rows.next() {
            var least: Int64? = row["value"]
            if row["conflicted"] as Bool {
                let candidates = try RecordState(json: row["state"]).fields["value"] ?? []
                least = candidates.compactMap { entry -> Int64? in
                    if case .integer(let number) = entry.value { return number }
                    return nil
                }.min() ?? least
            }
            if let least { existing.append(figure(row, value: least)) }
        }
        return FigureSet(counted: counted, existing: existing)
    }

    /// Whether area `inner` lies within `outer`: the same, a district of it, or anywhere in
    /// the country when `outer` is the whole country.
    static func area(_ inner: String, isWithin outer: String) -> Bool {
        outer.isEmpty || inner == outer || inner.hasPrefix(outer + " / ")
    }

    /// The province a district lies in (`nil` for a province, or the whole country).
    static func province(of area: String) -> String? {
        guard let range = area.range(of: " / ") else { return nil }
        return String(area[..<range.lowerBound])
    }

    /// The smallest existing figure within a cell: `matches` picks its figures by organisation,
    /// place and indicator; periods within `period` count (a month in its quarter and year).
    func smallest(within period: String, _ matches: (Figure) -> Bool) -> Int64? {
        existing.filter { Figures.period($0.period, isWithin: period) && matches($0) }.map(\.value).min()
    }

    /// The counted figures of one organisation's line, each place counted once: where the
    /// organisation reported its country's own total for a period and indicator, that total
    /// stands for the country (its areas are parts of it); otherwise its provinces, and the
    /// districts of provinces it gave no figure for.
    static func countedOnce(_ figures: [Figure]) -> [Figure] {
        struct Key: Hashable { var org, country, period, indicator: String }
        return Dictionary(grouping: figures) { Key(org: $0.org, country: $0.country, period: $0.period, indicator: $0.indicator) }
            .values.flatMap { group -> [Figure] in
                let whole = group.filter { $0.area.isEmpty }
                if !whole.isEmpty { return whole }
                let provinces = Set(group.filter { province(of: $0.area) == nil }.map(\.area))
                return group.filter { province(of: $0.area).map { !provinces.contains($0) } ?? true }
            }
    }
}
