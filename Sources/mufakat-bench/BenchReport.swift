import Foundation

/// One line of the benchmark table: a figure, the baseline measured in the same run, and
/// their ratio.
struct BenchRow: Encodable {
    var benchmark: String
    var figure: String
    var value: Double
    var unit: String
    var baseline: String?
    var baselineValue: Double?
    var ratio: Double? {
        guard let baselineValue, baselineValue != 0 else { return nil }
        return value / baselineValue
    }

    enum CodingKeys: String, CodingKey { case benchmark, figure, value, unit, baseline, baselineValue, ratio }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(benchmark, forKey: .benchmark)
        try container.encode(figure, forKey: .figure)
        try container.encode(value, forKey: .value)
        try container.encode(unit, forKey: .unit)
        try container.encodeIfPresent(baseline, forKey: .baseline)
        try container.encodeIfPresent(baselineValue, forKey: .baselineValue)
        try container.encodeIfPresent(ratio, forKey: .ratio)
    }
}

/// Collects rows, prints them as an aligned table and writes them as JSON.
final class BenchReport {
    private(set) var rows: [BenchRow] = []

    func add(_ row: BenchRow) {
        rows.append(row)
        print("  \(row.benchmark): \(row.figure) = \(Self.format(row.value)) \(row.unit)"
            + (row.baselineValue.map { " (baseline \(row.baseline ?? ""): \(Self.format($0)) \(row.unit))" } ?? ""))
    }

    func printTable() {
        let header = ["benchmark", "figure", "value", "baseline", "ratio"]
        let lines = rows.map { row in
            [
                row.benchmark, row.figure, "\(Self.format(row.value)) \(row.unit)",
                row.baselineValue.map { "\(Self.format($0)) \(row.unit) (\(row.baseline ?? ""))" } ?? "—",
                row.ratio.map { String(format: "%.2f×", $0) } ?? "—",
            ]
        }
        let widths = header.indices.map { column in ([header] + lines).map { $0[column].count }.max()! }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        print(render(header))
        print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        lines.forEach { print(render($0)) }
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let document: [String: AnyEncodable] = [
            "date": AnyEncodable(ISO8601DateFormatter().string(from: Date())),
            "machine": AnyEncodable("\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB"),
            "rows": AnyEncodable(rows),
        ]
        try encoder.encode(document).write(to: URL(fileURLWithPath: path))
    }

    static func format(_ value: Double) -> String {
        if value >= 1_000 { return String(format: "%.0f", value) }
        if value >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.3f", value)
    }
}

struct AnyEncodable: Encodable {
    let encodeValue: (any Encoder) throws -> Void
    init<T: Encodable>(_ value: T) { encodeValue = value.encode }
    func encode(to encoder: any Encoder) throws { try encodeValue(encoder) }
}

/// Median wall time of `runs` runs of `body`, in seconds.
func measure(runs: Int, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}
