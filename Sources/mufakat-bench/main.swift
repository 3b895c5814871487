import Foundation

// mufakat-bench: benchmarks that print figures against baselines measured in the same
// run. `make bench` builds in release mode and runs them all; or
// `.build/release/mufakat-bench [wire|import|sync|concurrency|micro]... [--json FILE]`.
// BENCH_LARGE=1 adds the 1,000,000-record sizes.

var arguments = Array(CommandLine.arguments.dropFirst())
var jsonPath: String?
if let index = arguments.firstIndex(of: "--json"), index + 1 < arguments.count {
    jsonPath = arguments[index + 1]
    arguments.removeSubrange(index...index + 1)
}
let known = ["micro", "wire", "import", "sync", "concurrency"]
let selected = arguments.isEmpty ? known : arguments
for name in selected where !known.contains(name) {
    FileHandle.standardError.write(Data("mufakat-bench: unknown benchmark '\(name)'; known: \(known.joined(separator: ", "))\n".utf8))
    exit(2)
}
let environment = ProcessInfo.processInfo.environment
let large = environment["BENCH_LARGE"] == "1"
let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
let work = FileManager.default.temporaryDirectory.appendingPathComponent("mufakat-bench-\(UUID().uuidString)").path
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)

let report = BenchReport()
let started = Date()
do {
    if selected.contains("micro") {
        print("micro: merge, canonical encode/decode, frame encode/decode")
        try MicroBenchmark.run(into: report)
    }
    if selected.contains("wire") {
        print("wire: 1,000-report changes frame")
        try WireBenchmark.run(into: report)
    }
    if selected.contains("import") {
        let rows = Int(environment["BENCH_IMPORT_ROWS"] ?? "") ?? 100_000
        print("import: \(rows)-row reports CSV (BENCH_IMPORT_ROWS), in process and as mufakat import")
        try ImportBenchmark.run(into: report, rows: rows, binaries: binaries)
    }
    if selected.contains("sync") {
        print("sync: B1 initial sync, B2 incremental, B3 wire size, B5 no-op, B6 memory")
        try await SyncBenchmarks(binaries: binaries, work: work, large: large).run(into: report)
    }
    if selected.contains("concurrency") {
        print("concurrency: B4, 100 replicas at once")
        try await ConcurrencyBenchmark(binaries: binaries, work: work).run(into: report)
    }
} catch {
    try? FileManager.default.removeItem(atPath: work)
    FileHandle.standardError.write(Data("mufakat-bench: \(error)\n".utf8))
    exit(1)
}
if environment["BENCH_KEEP"] == "1" { print("kept \(work)") } else { try? FileManager.default.removeItem(atPath: work) }
print("")
report.printTable()
print(String(format: "\nall benchmarks took %.0f s", Date().timeIntervalSince(started)))
if let jsonPath {
    try report.write(to: jsonPath)
    print("written to \(jsonPath)")
}
