import Foundation
import MufakatCore
import MufakatSync
import Testing

@Suite("Sync rules under restores, copies, rewinds, rebuilds, cuts and hostile pushes")
struct SimulationTests {
    /// `MUFAKAT_SCHEDULES=N` runs more (default 1,000); `MUFAKAT_SEED=S` replays one.
    @Test("random schedules of 2–6 replicas and a hub converge with no acknowledged write lost or duplicated")
    func schedules() throws {
        let environment = ProcessInfo.processInfo.environment
        let count = Int(environment["MUFAKAT_SCHEDULES"] ?? "") ?? 1_000
        let seeds: [UInt64] = environment["MUFAKAT_SEED"].flatMap(UInt64.init).map { [$0] } ?? (1...UInt64(count)).map { $0 }
        var total = World.Counts()
        var failures: [String] = []
        for seed in seeds {
            var world = World(seed: seed)
            try world.run(events: 60)
            try world.finish()
            if environment["MUFAKAT_SEED"] != nil { print(world.trace.joined(separator: "\n")) }
            total.schedules += 1
            total.writes += world.counts.writes
            total.deletes += world.counts.deletes
            total.syncs += world.counts.syncs
            total.cuts += world.counts.cuts
            total.restores += world.counts.restores
            total.copies += world.counts.copies
            total.rewinds += world.counts.rewinds
            total.rebuilds += world.counts.rebuilds
            total.hostile += world.counts.hostile
            total.incarnations += world.counts.incarnations
            total.hubBehind += world.counts.hubBehind
            total.replayed += world.counts.replayed
            total.lost += world.counts.lost
            total.duplicated += world.counts.duplicated
            total.diverged += world.counts.diverged
            if !world.problems.isEmpty, failures.count < 5 {
                failures.append("seed \(seed): " + world.problems.prefix(3).joined(separator: "; "))
            }
        }
        print("""
            sync schedules: \(total.schedules) schedules, \(total.writes) writes, \(total.deletes) deletes, \
            \(total.syncs) syncs (\(total.cuts) cut), \(total.restores) replica restores, \(total.copies) copies, \
            \(total.rewinds) hub rewinds, \(total.rebuilds) hub rebuilds, \(total.hostile) hostile pushes (4 kinds each), \
            \(total.incarnations) new replica ids, \(total.hubBehind) hub-behind verdicts, \(total.replayed) writes re-stamped, \
            \(total.diverged) diverged pushes; lost \(total.lost), duplicated \(total.duplicated)
            """)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(total.restores > 0 && total.copies > 0 && total.rewinds > 0 && total.rebuilds > 0 && total.hostile > 0)
    }
}
