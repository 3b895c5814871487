import Foundation
import MufakatCore

/// Realistic coalition data made from a seed, for tests and benchmarks.
///
/// Reports use every disaggregation field, so sizes and compression ratios measured on them
/// are those of real batches.
public struct SampleData {
    public static let organizations = ["iom", "unicef", "save-the-children", "migrant-care", "kemnaker", "bp2mi", "polri"]
    public static let provinces = [
        "East Java", "West Kalimantan", "North Sumatra", "Riau Islands", "East Nusa Tenggara",
        "West Nusa Tenggara", "Central Java", "Jakarta", "West Java", "South Sulawesi",
    ]
    static let destinations = ["MY", "SA", "HK", "TW", "SG", "AE", "KR", "JP"]

    private var generator: SplitMix64

    public init(seed: UInt64) {
        generator = SplitMix64(seed: seed)
    }

    /// The typed fields of the `index`-th report: distinct indexes give distinct natural keys
    /// for the first 1,600,000 or so.
    public mutating func reportAssignments(_ index: Int) -> [(field: String, value: String)] {
        var rest = index
        func pick<T>(_ values: [T]) -> T {
            let value = values[rest % values.count]
            rest /= values.count
            return value
        }
        let org = pick(Self.organizations)
        let quarter = pick([1, 2, 3, 4])
        let year = pick([2023, 2024, 2025])
        let area = pick(Self.provinces)
        let indicator = pick(Array(Catalogue.indicators.prefix(10)))
        let gender = pick(Catalogue.genders)
        let age = pick(Catalogue.ageBands)
        let exploitation = pick(Catalogue.exploitationTypes)
        let destination = pick(Self.destinations)
        let value = Int(generator.next() % 400)
        let notes = generator.next() % 4 == 0
            ? "Figures from the provincial task force, checked against shelter intake records." : ""
        return [
            ("org", org), ("period", "\(year)-Q\(quarter)"), ("country", "ID"), ("area", area),
            ("indicator", indicator), ("value", String(value)), ("gender", gender), ("ageBroad", age),
            ("typeOfExploitation", exploitation), ("countryOfExploitation", destination),
            ("datasource", Catalogue.dataSources[Int(generator.next() % 5)]),
            ("status", Catalogue.reportStatuses[Int(generator.next() % 3)]), ("notes", notes),
        ]
    }

    /// The `index`-th report as a record written by `replica` with counter `index + 1`.
    public mutating func report(_ index: Int, replica: ReplicaID, author: String = "Andi (IOM)") -> ReplicatedRecord {
        let schema = Catalogue.reports
        let values = schema.parse(reportAssignments(index)).values.filter { !$0.value.isNull }
        var state = RecordState()
        try! state.write(
            values, dot: Dot(replica: replica, counter: UInt64(index + 1)),
            now: 1_764_400_000_000 + Int64(index) * 1_000, author: author)
        return ReplicatedRecord(collection: schema.name, id: schema.derivedID(for: values)!, state: state)
    }
}

extension SampleData {
    /// The header of a reports CSV in the order ``reportAssignments(_:)`` gives fields.
    public static let reportsCSVHeader =
        "org,period,country,area,indicator,value,gender,ageBroad,typeOfExploitation,countryOfExploitation,datasource,status,notes"

    /// One CSV line (RFC 4180 quoting) of `cells`.
    public static func csvLine(_ cells: [String]) -> String {
        cells.map { cell in
            cell.contains(",") || cell.contains("\"") || cell.contains("\n") || cell.contains("\r")
                ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
        }.joined(separator: ",")
    }

    /// `rows` report rows as a CSV file, header included.
    public mutating func reportsCSV(
        rows: Int, from start: Int = 0, lineEnding: String = "\n", edit: (Int, inout [String]) -> Void = { _, _ in }
    ) -> String {
        var lines = [Self.reportsCSVHeader]
        for index in start..<(start + rows) {
            var cells = reportAssignments(index).map(\.value)
            edit(index, &cells)
            lines.append(Self.csvLine(cells))
        }
        return lines.joined(separator: lineEnding) + lineEnding
    }
}

/// A small seeded generator: the same seed gives the same data on every machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number from 0 to `n` − 1 (`n` > 0), for schedules that pick among a few choices.
    public mutating func next(below n: Int) -> Int { Int(next() % UInt64(n)) }
}
