import Foundation
import MufakatStore
import MufakatTesting

/// Importing a 100,000-row reports CSV into a fresh replica, against the `sqlite3` CLI's
/// `.import` of the same file into a plain table in the same run.
enum ImportBenchmark {
    static func run(into report: BenchReport, rows: Int = 100_000, binaries: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mufakat-bench-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var data = SampleData(seed: 100)
        let csvPath = directory.appendingPathComponent("reports.csv").path
        try data.reportsCSV(rows: rows).write(toFile: csvPath, atomically: true, encoding: .utf8)

        let baseline = try measure(runs: 1) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["sqlite3", directory.appendingPathComponent("plain-\(UUID().uuidString).sqlite").path, ".import --csv \(csvPath) reports"]
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw BenchError("sqlite3 .import failed") }
        }
        let store = try ReplicaStore.create(
            at: directory.appendingPathComponent("replica.sqlite").path, hub: "localhost:7420", token: "bench", name: "Bench")
        var imported = 0
        let time = try measure(runs: 1) {
            imported = try store.importCSV("reports", path: csvPath).created
        }
        guard imported == rows else { throw BenchError("imported \(imported) of \(rows) rows") }
        report.add(BenchRow(
            benchmark: "import", figure: "import \(rows) report rows (seconds)", value: time, unit: "s",
            baseline: "sqlite3 .import into a plain table", baselineValue: baseline))
        report.add(BenchRow(
            benchmark: "import", figure: "import rate (rows/s)", value: Double(rows) / time, unit: "rows/s",
            baseline: "sqlite3 .import", baselineValue: Double(rows) / baseline))

        // The same file through the CLI, as a person runs it: time and peak memory of the
        // whole process (the import streams the file; memory should not grow with it).
        let mufakat = (binaries as NSString).appendingPathComponent("mufakat")
        let home = directory.appendingPathComponent("cli-home").path
        let initialised = try runMeasured(mufakat, ["init", "--home", home, "--hub", "localhost:7420", "--insecure", "--token", "bench", "--name", "Bench"])
        guard initialised.exitCode == 0 else { throw BenchError("mufakat init failed (\(initialised.exitCode))") }
        let cli = try runMeasured(mufakat, ["import", "--home", home, "reports", csvPath])
        guard cli.exitCode == 0 else { throw BenchError("mufakat import failed (\(cli.exitCode))") }
        let fileBytes = (try FileManager.default.attributesOfItem(atPath: csvPath)[.size] as? NSNumber)?.intValue ?? 0
        report.add(BenchRow(
            benchmark: "import", figure: "mufakat import, \(rows) rows, whole process (s)", value: cli.seconds, unit: "s",
            baseline: "sqlite3 .import", baselineValue: baseline))
        report.add(BenchRow(
            benchmark: "import", figure: "mufakat import, \(rows) rows: peak RSS", value: Double(cli.maxRSSKilobytes) / 1024, unit: "MiB",
            baseline: "the CSV file's size", baselineValue: Double(fileBytes) / 1_048_576))
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
