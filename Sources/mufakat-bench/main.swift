import Foundation

// mufakat-bench: benchmarks that print figures against baselines measured in the same
// run. Build in release mode: `swift run -c release mufakat-bench [wire] [--json FILE]`.

var arguments = Array(CommandLine.arguments.dropFirst())
var jsonPath: String?
if let index = arguments.firstIndex(of: "--json"), index + 1 < arguments.count {
    jsonPath = arguments[index + 1]
    arguments.removeSubrange(index...index + 1)
}
let known = ["wire", "import"]
let selected = arguments.isEmpty ? known : arguments
for name in selected where !known.contains(name) {
    FileHandle.standardError.write(Data("mufakat-bench: unknown benchmark '\(name)'; known: \(known.joined(separator: ", "))\n".utf8))
    exit(2)
}

let report = BenchReport()
do {
    if selected.contains("wire") {
        print("wire: 1,000-report changes frame")
        try WireBenchmark.run(into: report)
    }
    if selected.contains("import") {
        print("import: 100,000-row reports CSV")
        try ImportBenchmark.run(into: report, rows: Int(ProcessInfo.processInfo.environment["BENCH_IMPORT_ROWS"] ?? "") ?? 100_000)
    }
} catch {
    FileHandle.standardError.write(Data("mufakat-bench: \(error)\n".utf8))
    exit(1)
}
print("")
report.printTable()
if let jsonPath {
    try report.write(to: jsonPath)
    print("\nwritten to \(jsonPath)")
}
