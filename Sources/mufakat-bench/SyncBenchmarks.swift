import Foundation
import MufakatCore
import MufakatStore
import MufakatSync
import MufakatTesting

/// B1, B2, B3, B5 and B6: a real hub process and real `mufakat` processes.
struct SyncBenchmarks {
    let binaries: String
    let work: String
    let large: Bool

    var mufakat: String { (binaries as NSString).appendingPathComponent("mufakat") }
    var hubBinary: String { (binaries as NSString).appendingPathComponent("mufakat-hub") }

    /// A hub data folder holding `count` reports written by one replica, and a token for it.
    func populatedHub(_ count: Int, name: String) async throws -> (directory: String, token: String, records: [ReplicatedRecord]) {
        let directory = (work as NSString).appendingPathComponent("hub-\(name)")
        let store = try HubStore.open(directory: directory)
        var data = SampleData(seed: 1)
        let writer = try ReplicaID("bench-writer")
        var kept: [ReplicatedRecord] = []
        var index = 0
        var lastPush = ""
        while index < count {
            let batch = (index..<min(index + 5_000, count)).map { data.report($0, replica: writer) }
            let header = PushHeader(through: UInt64(index + batch.count), id: PushID.random(), after: lastPush, counter: UInt64(index + batch.count))
            let result = try await store.applyPush(batch, header: header, from: writer).get()
            lastPush = header.id
            guard result.rejected.isEmpty else { throw BenchError("hub refused sample data: \(result.rejected[0].rejection.reason)") }
            if count <= 100_000 { kept += batch }
            index += batch.count
        }
        return (directory, try store.createToken(org: "bench", name: "Bench").secret, kept)
    }

    func newReplica(_ name: String, hub: HubProcess, token: String) throws -> String {
        let home = (work as NSString).appendingPathComponent("replica-\(name)")
        let result = try runMeasured(mufakat, ["init", "--home", home, "--hub", "127.0.0.1:\(hub.port)", "--token", token, "--name", name] + hub.trust)
        guard result.exitCode == 0 else { throw BenchError("init failed") }
        return home
    }

    func sync(_ home: String) throws -> (measured: Measured, sent: Int, received: Int, pulled: Int) {
        let result = try runMeasured(mufakat, ["sync", "--home", home, "--json"])
        guard result.exitCode == 0 else { throw BenchError("sync exited \(result.exitCode): \(result.stdout)") }
        func field(_ name: String) -> Int {
            guard let range = result.stdout.range(of: "\"\(name)\":") else { return 0 }
            return Int(result.stdout[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
        return (result, field("bytesSent"), field("bytesReceived"), field("pulled"))
    }

    func run(into report: BenchReport) async throws {
        // B1 + B3 + B6: a new replica pulls 100,000 reports.
        let count = 100_000
        let populating = DispatchTime.now().uptimeNanoseconds
        let (directory, token, records) = try await populatedHub(count, name: "100k")
        print(String(format: "  (hub populated with %d reports in %.1f s)", count, Double(DispatchTime.now().uptimeNanoseconds - populating) / 1e9))
        let hub = try HubProcess(binary: hubBinary, directory: directory)
        defer { hub.stop() }
        let home = try newReplica("b1", hub: hub, token: token)
        if ProcessInfo.processInfo.environment["BENCH_ONLY_POPULATE"] == "1" { return }
        let initial = try sync(home)
        guard initial.pulled == count else { throw BenchError("B1 pulled \(initial.pulled) of \(count)") }

        let lines = records.map(\.canonicalJSON)
        let linesFile = (work as NSString).appendingPathComponent("records.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(toFile: linesFile, atomically: true, encoding: .utf8)
        let csvFile = (work as NSString).appendingPathComponent("records.csv")
        try records.map { SampleData.csvLine([$0.collection, $0.id, $0.state.canonicalJSON]) }.joined(separator: "\n")
            .appending("\n").write(toFile: csvFile, atomically: true, encoding: .utf8)
        let baseline = try runMeasured("/usr/bin/env", [
            "sqlite3", (work as NSString).appendingPathComponent("baseline.sqlite"),
            "CREATE TABLE records (collection TEXT, id TEXT, state TEXT);", ".import --csv \(csvFile) records",
        ])
        guard baseline.exitCode == 0 else { throw BenchError("sqlite3 baseline failed") }
        report.add(BenchRow(
            benchmark: "B1", figure: "new replica syncs 100,000 reports (s)", value: initial.measured.seconds, unit: "s",
            baseline: "sqlite3 .import of the same records", baselineValue: baseline.seconds))
        report.add(BenchRow(
            benchmark: "B1", figure: "initial sync rate (records/s)", value: Double(count) / initial.measured.seconds, unit: "records/s",
            baseline: "sqlite3 .import", baselineValue: Double(count) / baseline.seconds))
        let gzip = try runMeasured("/bin/sh", ["-c", "gzip -6 -c \(linesFile) | wc -c"])
        let gzipBytes = Double(gzip.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        report.add(BenchRow(
            benchmark: "B3", figure: "bytes on the wire for 100,000 reports", value: Double(initial.sent + initial.received), unit: "bytes",
            baseline: "gzip -6 of their canonical JSON lines", baselineValue: gzipBytes))
        report.add(BenchRow(
            benchmark: "B6", figure: "client peak RSS during B1", value: Double(initial.measured.maxRSSKilobytes) / 1024, unit: "MiB"))
        if FileManager.default.fileExists(atPath: "/usr/bin/env") {
            report.add(BenchRow(
                benchmark: "B6", figure: "hub peak RSS after B1", value: Double(hub.peakRSSKilobytes) / 1024, unit: "MiB"))
        }

        // B5: a replica in sync syncs again.
        let noop = try sync(home)
        report.add(BenchRow(
            benchmark: "B5", figure: "no-op sync (ms)", value: noop.measured.seconds * 1_000, unit: "ms",
            baseline: "mufakat conflicts (process start, open, one query)",
            baselineValue: try runMeasured(mufakat, ["conflicts", "--home", home]).seconds * 1_000))
        report.add(BenchRow(benchmark: "B5", figure: "no-op sync bytes up", value: Double(noop.sent), unit: "bytes"))
        report.add(BenchRow(benchmark: "B5", figure: "no-op sync bytes down", value: Double(noop.received), unit: "bytes"))

        // B2: a replica in sync changes 10 records and syncs, at two (or three) hub sizes.
        var sizes: [(Int, Double, Int)] = []
        let large = try await incremental(hub: hub, home: home, token: token, count: count)
        let small = try await smallIncremental(1_000)
        sizes.append(small)
        sizes.append(large)
        if self.large {
            sizes.append(try await hugeIncremental(1_000_000))
        }
        for (size, seconds, bytes) in sizes {
            report.add(BenchRow(
                benchmark: "B2", figure: "10 changes synced, hub holds \(size) records (s)", value: seconds, unit: "s"))
            report.add(BenchRow(
                benchmark: "B2", figure: "10 changes, hub holds \(size): bytes on the wire", value: Double(bytes), unit: "bytes"))
        }
        report.add(BenchRow(
            benchmark: "B2", figure: "incremental cost, largest / smallest hub", value: sizes.last!.1, unit: "s",
            baseline: "hub of \(sizes.first!.0) records", baselineValue: sizes.first!.1))

        // T1, T2: what TLS costs, against the same hub folder served with --insecure.
        hub.stop()
        let plainHub = try HubProcess(binary: hubBinary, directory: directory, insecure: true)
        defer { plainHub.stop() }
        let plainHome = try newReplica("t1-plain", hub: plainHub, token: token)
        let plainInitial = try sync(plainHome)
        guard plainInitial.pulled == count else { throw BenchError("T1 pulled \(plainInitial.pulled) of \(count)") }
        report.add(BenchRow(
            benchmark: "T1", figure: "new replica syncs 100,000 reports over TLS (s)", value: initial.measured.seconds, unit: "s",
            baseline: "the same over plain TCP (--insecure)", baselineValue: plainInitial.measured.seconds))
        report.add(BenchRow(
            benchmark: "T1", figure: "bytes on the wire for 100,000 reports over TLS", value: Double(initial.sent + initial.received), unit: "bytes",
            baseline: "plain TCP", baselineValue: Double(plainInitial.sent + plainInitial.received)))
        let plainNoop = try (0..<5).map { _ in try sync(plainHome).measured.seconds }.sorted()[2]
        plainHub.stop()
        let tlsHub = try HubProcess(binary: hubBinary, directory: directory)
        defer { tlsHub.stop() }
        // The B1 replica was set up for the first hub process's port.
        _ = try runMeasured(mufakat, ["hub", "set", "127.0.0.1:\(tlsHub.port)", "--home", home])
        let tlsNoop = try (0..<5).map { _ in try sync(home).measured.seconds }.sorted()[2]
        report.add(BenchRow(
            benchmark: "T2", figure: "no-op sync over TLS, median of 5 (ms)", value: tlsNoop * 1_000, unit: "ms",
            baseline: "plain TCP, median of 5", baselineValue: plainNoop * 1_000))
    }

    /// Median time and bytes of five rounds of "change 10 records, sync".
    func incremental(hub: HubProcess, home: String, token: String, count: Int) async throws -> (Int, Double, Int) {
        var times: [Double] = []
        var bytes: [Int] = []
        let ids = try ReplicaStore.open(at: (home as NSString).appendingPathComponent(ReplicaStore.fileName)).list("reports").prefix(10).map(\.id)
        for round in 0..<5 {
            for id in ids {
                let result = try runMeasured(mufakat, ["put", "--home", home, "reports", id, "value=\(round * 7 + 1)"])
                guard result.exitCode == 0 else { throw BenchError("put failed") }
            }
            let synced = try sync(home)
            times.append(synced.measured.seconds)
            bytes.append(synced.sent + synced.received)
        }
        return (count, times.sorted()[2], bytes.sorted()[2])
    }

    func smallIncremental(_ count: Int) async throws -> (Int, Double, Int) {
        let (directory, token, _) = try await populatedHub(count, name: "small")
        let hub = try HubProcess(binary: hubBinary, directory: directory)
        defer { hub.stop() }
        let home = try newReplica("b2-small", hub: hub, token: token)
        _ = try sync(home)
        return try await incremental(hub: hub, home: home, token: token, count: count)
    }

    func hugeIncremental(_ count: Int) async throws -> (Int, Double, Int) {
        let (directory, token, _) = try await populatedHub(count, name: "1m")
        let hub = try HubProcess(binary: hubBinary, directory: directory)
        defer { hub.stop() }
        let home = try newReplica("b2-large", hub: hub, token: token)
        let initial = try sync(home)
        print("  B6 (large): client peak RSS syncing \(count) records: \(initial.measured.maxRSSKilobytes / 1024) MiB in \(String(format: "%.1f", initial.measured.seconds)) s")
        return try await incremental(hub: hub, home: home, token: token, count: count)
    }
}
