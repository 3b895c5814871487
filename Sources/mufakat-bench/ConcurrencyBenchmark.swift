import Foundation
import MufakatClient
import MufakatStore
import MufakatTesting
import NIOPosix

/// B4: 100 replicas (in-process engines over real sockets) each write 1,000 reports and
/// sync at the same time against a hub process; then all sync again so everyone has
/// everything.
struct ConcurrencyBenchmark {
    let binaries: String
    let work: String

    func run(into report: BenchReport) async throws {
        let environment = ProcessInfo.processInfo.environment
        // The full size (1,000 records each) makes every replica end with 100,000 records:
        // 10 million record deliveries, about ten minutes on a 2-core machine. It runs with
        // BENCH_LARGE=1; the default keeps `make bench` under fifteen minutes.
        let large = environment["BENCH_LARGE"] == "1"
        let replicas = Int(environment["BENCH_B4_REPLICAS"] ?? "") ?? 100
        let perReplica = Int(environment["BENCH_B4_RECORDS"] ?? "") ?? (large ? 1_000 : 200)
        let directory = (work as NSString).appendingPathComponent("hub-b4")
        let hubStore = try HubStore.open(directory: directory)
        var stores: [ReplicaStore] = []
        for index in 0..<replicas {
            let token = try hubStore.createToken(org: "org\(index)", name: "Person \(index)", role: .coordinator).secret
            let path = (work as NSString).appendingPathComponent("b4-\(index)/replica.sqlite")
            stores.append(try ReplicaStore.create(at: path, hub: "", token: token, name: "Person \(index)", cacheMiB: 2))
        }
        let hub = try HubProcess(binary: (binaries as NSString).appendingPathComponent("mufakat-hub"), directory: directory)
        defer { hub.stop() }
        for (index, store) in stores.enumerated() {
            try store.reconfigure(hub: "127.0.0.1:\(hub.port)", hubKey: hub.trust.last)
            var data = SampleData(seed: UInt64(index))
            let csv = data.reportsCSV(rows: perReplica, from: index * perReplica)
            _ = try store.importCSV("reports", data: Data(csv.utf8))
        }

        let errors = ErrorCounter()
        let started = DispatchTime.now().uptimeNanoseconds
        let firstPulled = await syncAll(stores, errors)
        let firstRound = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let secondStarted = DispatchTime.now().uptimeNanoseconds
        let secondPulled = await syncAll(stores, errors)
        let secondRound = Double(DispatchTime.now().uptimeNanoseconds - secondStarted) / 1e9
        let hubRSS = Double(hub.peakRSSKilobytes) / 1024
        hub.stop()

        let hubDigest = try HubStore.open(directory: directory).digest()
        let equal = try stores.allSatisfy { try $0.digest() == hubDigest }
        let total = replicas * perReplica
        report.add(BenchRow(
            benchmark: "B4", figure: "\(replicas) replicas push \(perReplica) reports each at once (s)", value: firstRound, unit: "s"))
        report.add(BenchRow(
            benchmark: "B4", figure: "merged records/s at the hub (first round)", value: Double(total) / firstRound, unit: "records/s"))
        report.add(BenchRow(
            benchmark: "B4", figure: "records the hub sent to replicas in the first round", value: Double(firstPulled), unit: "records"))
        report.add(BenchRow(
            benchmark: "B4", figure: "records sent per second, first round", value: Double(firstPulled) / firstRound, unit: "records/s"))
        report.add(BenchRow(
            benchmark: "B4", figure: "then all sync again (s), pulling \(secondPulled) records in all", value: secondRound, unit: "s"))
        report.add(BenchRow(benchmark: "B4", figure: "total seconds", value: firstRound + secondRound, unit: "s"))
        report.add(BenchRow(benchmark: "B4", figure: "hub peak RSS", value: hubRSS, unit: "MiB"))
        report.add(BenchRow(benchmark: "B4", figure: "errors", value: Double(errors.count), unit: "count"))
        report.add(BenchRow(benchmark: "B4", figure: "digests equal (1 = yes)", value: equal ? 1 : 0, unit: "bool"))
    }

    /// Syncs every store at once; returns how many records they pulled in all.
    func syncAll(_ stores: [ReplicaStore], _ errors: ErrorCounter) async -> Int {
        await withTaskGroup(of: Int.self) { group in
            for store in stores {
                group.addTask {
                    do {
                        return try await SyncClient(store: store, timeout: .seconds(600)).sync().pulled
                    } catch {
                        errors.add(error)
                        return 0
                    }
                }
            }
            return await group.reduce(0, +)
        }
    }
}

final class ErrorCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [String] = []
    func add(_ error: any Error) {
        lock.lock()
        errors.append("\(error)")
        lock.unlock()
    }
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        if let first = errors.first { print("  B4 error: \(first)") }
        return errors.count
    }
}
