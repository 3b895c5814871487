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
/// every area of that country lie within it. An area is a path split at `/`, each part
/// compared as record keys compare text (case, spacing and Unicode form aside): `East Java /
/// Surabaya` lies within `east java`, and so does `East Java/Surabaya/Kota`. Two areas
/// neither of which lies within the other are two places.
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
        /// The area's parts, folded as record keys fold text; empty for the whole country.
        var path: [String]
    }

    /// An area's parts: split at `/`, each folded as record keys fold text.
    static func path(_ area: String) -> [String] {
        area.split(separator: "/").map { RecordIDs.keyText(.string(String($0))).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Whether `inner` lies within `outer` (itself included): `outer`'s path begins `inner`'s.
    static func path(_ inner: [String], isWithin outer: [String]) -> Bool {
        inner.count >= outer.count && Array(inner.prefix(outer.count)) == outer
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
            let area: String = row["area"] ?? ""
            return Figure(
                org: row["org"] ?? "", country: row["country"] ?? "", area: area, period: row["period"] ?? "",
                indicator: row["indicator"] ?? "", value: value ?? row["value"] ?? 0, status: row["status"] ?? "", path: path(area))
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

    /// The figures of `figures` that count once each: of one organisation's figures for a
    /// country, period and indicator, those no other figure of them lies within — where it
    /// reported its country's own total, that total stands for the country; otherwise each
    /// province's figure for the province, and the parts of provinces it gave none for.
    /// `places` leaves the country's own totals out first (tables by area give them a line
    /// of their own).
    static func countedOnce(_ figures: [Figure], places: Bool = false) -> [Figure] {
        struct Key: Hashable { var org, country, period, indicator: String }
        let considered = places ? figures.filter { !$0.path.isEmpty } : figures
        return Dictionary(grouping: considered) { Key(org: $0.org, country: $0.country, period: $0.period, indicator: $0.indicator) }
            .values.flatMap { group -> [Figure] in
                let paths = Set(group.map(\.path))
                return group.filter { figure in
                    !(0..<figure.path.count).contains { paths.contains(Array(figure.path.prefix($0))) }
                }
            }
    }
}
