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
        return (directory, try store.createToken(org: "bench", name: "Bench", role: .coordinator).secret, kept)
    }

    /// A replica made by `mufakat init`; with `protocolVersion` below 5, one as clients of 0.7
    /// and older made (their own counter names their writes).
    func newReplica(_ name: String, hub: HubProcess, token: String, protocolVersion: Int? = nil) throws -> String {
        let home = (work as NSString).appendingPathComponent("replica-\(name)")
        let arguments = ["init", "--home", home, "--hub", "127.0.0.1:\(hub.port)", "--token", token, "--name", name] + hub.trust
        let result = try protocolVersion.map { try runMeasured("/usr/bin/env", ["MUFAKAT_PROTOCOL=\($0)", mufakat] + arguments) }
            ?? runMeasured(mufakat, arguments)
        guard result.exitCode == 0 else { throw BenchError("init failed") }
        return home
    }

    /// Syncs the replica in `home` as a process; `protocolVersion` 2 makes it speak as
    /// clients before 0.6.0 do.
    func sync(_ home: String, protocolVersion: Int? = nil) throws -> (measured: Measured, sent: Int, received: Int, pulled: Int) {
        let result = try protocolVersion.map { version in
            try runMeasured("/usr/bin/env", ["MUFAKAT_PROTOCOL=\(version)", mufakat, "sync", "--home", home, "--json"])
        } ?? runMeasured(mufakat, ["sync", "--home", home, "--json"])
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

        // The plain data floor: the same reports as plain JSON lines (one object a line, the
        // id and the fields' values) and as a 13-column CSV.
        let plain = records.map { CanonicalJSON.document($0.state.document, rendered: ["id": CanonicalJSON.quoted($0.id)]) }
        let plainFile = (work as NSString).appendingPathComponent("reports.jsonl")
        try (plain.joined(separator: "\n") + "\n").write(toFile: plainFile, atomically: true, encoding: .utf8)
        let columns = SampleData.reportsCSVHeader.split(separator: ",").map(String.init)
        let csvFile = (work as NSString).appendingPathComponent("reports.csv")
        try records.map { record in
            let document = record.state.document
            return SampleData.csvLine([record.id] + columns.map { document[$0]?.text ?? "" })
        }.joined(separator: "\n").appending("\n").write(toFile: csvFile, atomically: true, encoding: .utf8)
        let baseline = try sqliteImport(csvFile, columns: ["id"] + columns, into: "baseline.sqlite")
        report.add(BenchRow(
            benchmark: "B1", figure: "new replica syncs 100,000 reports (s)", value: initial.measured.seconds, unit: "s",
            baseline: "sqlite3 .import of the same rows as a CSV into a 14-column table (id + 13 fields)", baselineValue: baseline.seconds))
        report.add(BenchRow(
            benchmark: "B1", figure: "initial sync rate (records/s)", value: Double(count) / initial.measured.seconds, unit: "records/s",
            baseline: "sqlite3 .import", baselineValue: Double(count) / baseline.seconds))
        let gzipBytes = try gzipSize(plainFile)
        report.add(BenchRow(
            benchmark: "B3", figure: "bytes on the wire for 100,000 reports (protocol 5)", value: Double(initial.sent + initial.received), unit: "bytes",
            baseline: "gzip -6 of the same reports as plain JSON lines", baselineValue: gzipBytes))
        let replicaFile = (home as NSString).appendingPathComponent(ReplicaStore.fileName)
        _ = try runMeasured("/usr/bin/env", ["sqlite3", replicaFile, "PRAGMA wal_checkpoint(TRUNCATE);"])
        let replicaBytes = (try FileManager.default.attributesOfItem(atPath: replicaFile)[.size] as? NSNumber)?.doubleValue ?? 0
        let plainBytes = (try FileManager.default.attributesOfItem(atPath: plainFile)[.size] as? NSNumber)?.doubleValue ?? 0
        report.add(BenchRow(
            benchmark: "B3", figure: "replica file after B1 (bytes)", value: replicaBytes, unit: "bytes",
            baseline: "the plain JSON lines of the same reports", baselineValue: plainBytes))
        // The same sync as 0.7.0 speaks it (protocol 4, a replica of 0.7's layout): the hub
        // naming every write (protocol 5) may cost no more than 10% in time and bytes (issue 27).
        let seven = try newReplica("b1-v4", hub: hub, token: token, protocolVersion: 4)
        let sevenSync = try sync(seven, protocolVersion: 4)
        guard sevenSync.pulled == count else { throw BenchError("B1 (version 4) pulled \(sevenSync.pulled) of \(count)") }
        report.add(BenchRow(
            benchmark: "B1", figure: "new replica syncs 100,000 reports, protocol 5 (s)", value: initial.measured.seconds, unit: "s",
            baseline: "the same sync in protocol 4, as 0.7.0 speaks it (same binaries)", baselineValue: sevenSync.measured.seconds))
        report.add(BenchRow(
            benchmark: "B3", figure: "bytes on the wire, protocol 5 (this client)", value: Double(initial.sent + initial.received), unit: "bytes",
            baseline: "the same sync in protocol 4 (0.7.0)", baselineValue: Double(sevenSync.sent + sevenSync.received)))
        // The same sync in protocol version 2, as clients before 0.6.0 speak it.
        let older = try newReplica("b3-v2", hub: hub, token: token, protocolVersion: 2)
        let olderSync = try sync(older, protocolVersion: 2)
        guard olderSync.pulled == count else { throw BenchError("B3 (version 2) pulled \(olderSync.pulled) of \(count)") }
        report.add(BenchRow(
            benchmark: "B3", figure: "bytes on the wire, protocol 5 (this client) against protocol 2", value: Double(initial.sent + initial.received), unit: "bytes",
            baseline: "the same sync in protocol 2 (clients before 0.6.0)", baselineValue: Double(olderSync.sent + olderSync.received)))
        report.add(BenchRow(
            benchmark: "B1", figure: "new replica syncs 100,000 reports, protocol 5 against protocol 2 (s)", value: initial.measured.seconds, unit: "s",
            baseline: "the same in protocol 2 (the hub writes each state expanded)", baselineValue: olderSync.measured.seconds))
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

        // B7: 10,000 edited reports travel A → hub → B as whole processes: a CSV import on
        // A, a sync on A, a sync on B (the T1 replica, moved to this hub).
        _ = try runMeasured(mufakat, ["hub", "set", "127.0.0.1:\(tlsHub.port)", "--home", plainHome] + tlsHub.trust)
        _ = try sync(plainHome)
        let edited = 10_000
        let editFile = (work as NSString).appendingPathComponent("edited.csv")
        let valueColumn = columns.firstIndex(of: "value")!
        try ([SampleData.reportsCSVHeader] + records.prefix(edited).map { record in
            let document = record.state.document
            var cells = columns.map { document[$0]?.text ?? "" }
            cells[valueColumn] = String((Int(cells[valueColumn]) ?? 0) + 1)
            return SampleData.csvLine(cells)
        }).joined(separator: "\n").appending("\n").write(toFile: editFile, atomically: true, encoding: .utf8)
        let editImport = try runMeasured(mufakat, ["import", "reports", editFile, "--home", home, "--json"])
        guard editImport.exitCode == 0 else { throw BenchError("B7 import exited \(editImport.exitCode): \(editImport.stdout)") }
        let editPush = try sync(home)
        let editPull = try sync(plainHome)
        guard editPull.pulled == edited else { throw BenchError("B7 pulled \(editPull.pulled) of \(edited)") }
        let editBaselineFile = (work as NSString).appendingPathComponent("edited-rows.csv")
        try String(decoding: FileManager.default.contents(atPath: editFile)!, as: UTF8.self).split(separator: "\n").dropFirst()
            .joined(separator: "\n").appending("\n").write(toFile: editBaselineFile, atomically: true, encoding: .utf8)
        let editBaseline = try sqliteImport(editBaselineFile, columns: columns, into: "edited.sqlite")
        let total = editImport.seconds + editPush.measured.seconds + editPull.measured.seconds
        report.add(BenchRow(
            benchmark: "B7", figure: "10,000 edited reports A → hub → B: import + sync A + sync B (s)", value: total, unit: "s",
            baseline: "sqlite3 .import of the 10,000 rows", baselineValue: editBaseline.seconds))
        report.add(BenchRow(benchmark: "B7", figure: "  of which CSV import on A (s)", value: editImport.seconds, unit: "s"))
        report.add(BenchRow(benchmark: "B7", figure: "  of which sync on A, pushing 10,000 (s)", value: editPush.measured.seconds, unit: "s"))
        report.add(BenchRow(benchmark: "B7", figure: "  of which sync on B, pulling 10,000 (s)", value: editPull.measured.seconds, unit: "s"))
    }

    /// `sqlite3 .import` of a header-less CSV into a new table of `columns` text columns.
    func sqliteImport(_ csv: String, columns: [String], into name: String) throws -> Measured {
        let table = "CREATE TABLE rows (\(columns.map { "\"\($0)\" TEXT" }.joined(separator: ", ")));"
        let result = try runMeasured("/usr/bin/env", ["sqlite3", (work as NSString).appendingPathComponent(name), table, ".import --csv \(csv) rows"])
        guard result.exitCode == 0 else { throw BenchError("sqlite3 .import of \(csv) failed") }
        return result
    }

    func gzipSize(_ file: String) throws -> Double {
        let gzip = try runMeasured("/bin/sh", ["-c", "gzip -6 -c \(file) | wc -c"])
        return Double(gzip.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
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
