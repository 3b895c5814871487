import Foundation
import MufakatCore
import MufakatSync
import Testing

/// Random schedules run through the pure sync rules (`Simulation.swift` mirrors the stores
/// step by step). `MUFAKAT_SCHEDULES=N` runs more (default 1,000); `MUFAKAT_SEED=S` replays
/// one and prints its trace; `MUFAKAT_SIM_LIST=1` prints every failing schedule.
@Suite("Sync rules under cuts, crashes, restores, copies, rewinds, rebuilds and hostile pushes")
struct SimulationTests {
    /// One schedule replayed by `MUFAKAT_SEED`: it need not hold every kind of event.
    static var replaying: Bool { ProcessInfo.processInfo.environment["MUFAKAT_SEED"] != nil }

    static func run(without: Set<String>) throws -> (counts: World.Counts, failures: [String]) {
        let environment = ProcessInfo.processInfo.environment
        let count = Int(environment["MUFAKAT_SCHEDULES"] ?? "") ?? 1_000
        let seeds: [UInt64] = environment["MUFAKAT_SEED"].flatMap(UInt64.init).map { [$0] } ?? (1...UInt64(count)).map { $0 }
        var total = World.Counts()
        var failures: [String] = []
        for seed in seeds {
            let narrowed = environment["MUFAKAT_SIM_WITHOUT"].map { Set($0.split(separator: ",").map(String.init)) } ?? without
            var world = World(seed: seed, without: narrowed)
            try world.run(events: 60)
            try world.finish()
            if environment["MUFAKAT_SEED"] != nil { print(world.trace.joined(separator: "\n")) }
            let c = world.counts
            total.schedules += 1
            total.writes += c.writes
            total.deletes += c.deletes
            total.syncs += c.syncs
            total.cuts += c.cuts
            total.restores += c.restores
            total.copies += c.copies
            total.rewinds += c.rewinds
            total.rebuilds += c.rebuilds
            total.hostile += c.hostile
            total.incarnations += c.incarnations
            total.hubBehind += c.hubBehind
            total.replayed += c.replayed
            total.lost += c.lost
            total.duplicated += c.duplicated
            total.diverged += c.diverged
            total.twins += c.twins
            total.reusedDots += c.reusedDots
            if !world.problems.isEmpty {
                failures.append("seed \(seed): " + world.problems.prefix(3).joined(separator: "; "))
            }
        }
        print("""
            sync schedules\(without.isEmpty ? "" : " (without \(without.sorted().joined(separator: ", ")))"): \
            \(total.schedules) schedules, \(total.writes) writes, \(total.deletes) deletes, \
            \(total.syncs) syncs (\(total.cuts) cut), \(total.restores) replica restores, \(total.copies) copies, \
            \(total.rewinds) hub rewinds, \(total.rebuilds) hub rebuilds, \(total.hostile) hostile pushes (4 kinds each, all refused), \
            \(total.incarnations) new replica ids, \(total.hubBehind) hub-behind verdicts, \(total.replayed) writes re-stamped, \
            \(total.diverged) diverged pushes, \(total.reusedDots) records refused as reused-dot; lost \(total.lost), duplicated \(total.duplicated) \
            (plus \(total.twins) re-stamped twins: same value, time and author under two dots, shown once), failing schedules \(failures.count)
            """)
        if environment["MUFAKAT_SIM_LIST"] != nil { print(failures.joined(separator: "\n")) }
        return (total, failures)
    }

    @Test("writes, syncs cut at any step and hostile pushes: every replica converges, nothing lost or duplicated")
    func cutsAndHostilePushes() throws {
        let (counts, failures) = try Self.run(without: ["hub", "restore", "copy"])
        #expect(failures.count == 0, "\(failures.prefix(5).joined(separator: "\n"))")
        #expect(Self.replaying || counts.cuts > 0 && counts.hostile > 0)
    }

    @Test("… with replicas restored from any earlier snapshot")
    func restores() throws {
        let (counts, failures) = try Self.run(without: ["hub", "copy"])
        #expect(failures.count == 0, "\(failures.prefix(5).joined(separator: "\n"))")
        #expect(Self.replaying || counts.restores > 0 && counts.incarnations > 0 && counts.replayed > 0)
    }

    @Test("… with the hub restored from any earlier snapshot or rebuilt empty, then re-seeded")
    func hubRewindsAndRebuilds() throws {
        let (counts, failures) = try Self.run(without: ["restore", "copy"])
        #expect(failures.count == 0, "\(failures.prefix(5).joined(separator: "\n"))")
        #expect(Self.replaying || counts.rewinds > 0 && counts.rebuilds > 0 && counts.hubBehind > 0)
        // A hub failure alone never makes a replica doubt its own id.
        #expect(counts.incarnations == 0 && counts.replayed == 0)
    }

    @Test("… with replica folders copied and used side by side")
    func copies() throws {
        let (counts, failures) = try Self.run(without: ["hub", "restore"])
        #expect(failures.count == 0, "\(failures.prefix(5).joined(separator: "\n"))")
        #expect(Self.replaying || counts.copies > 0 && counts.incarnations > 0)
    }

    @Test("… with replicas restored and copied, in any combination")
    func restoresAndCopies() throws {
        let (counts, failures) = try Self.run(without: ["hub"])
        #expect(failures.count == 0, "\(failures.prefix(5).joined(separator: "\n"))")
        #expect(Self.replaying || counts.restores > 0 && counts.copies > 0)
    }

    /// A replica failure and a hub failure in one schedule (a copy synced to a hub that was
    /// then rewound, a restored laptop and a rebuilt hub, …). A laptop restored from a backup
    /// that meets a hub restored from an older snapshot uses again the dots of writes a third
    /// replica still holds; the hub's dot index refuses those writes as `reused-dot` where the
    /// reused dot reached it in another record, and their holder writes them again. What no
    /// state can show stays open: a reused dot the laptop overwrote itself before syncing
    /// (PROTOCOL §6.6). 0 of the first 1,000 schedules fail; 1 of 3,000 (seed 1848) still
    /// loses a write that way: it is listed as a known issue, every other failure fails.
    /// Schedules beyond the first 1,000 that lose a write the way PROTOCOL §6.6 says no state
    /// can show. Any other failing schedule fails the test.
    static let knownUntraceable: Set<UInt64> = [1848]

    @Test("… with every kind of failure mixed, replicas' and the hub's together")
    func everyFailure() throws {
        let (counts, failures) = try Self.run(without: [])
        #expect(Self.replaying || counts.restores > 0 && counts.copies > 0 && counts.rewinds > 0 && counts.rebuilds > 0)
        let known = failures.filter { failure in
            Self.knownUntraceable.contains { failure.hasPrefix("seed \($0): acknowledged write") }
        }
        let unexpected = failures.filter { !known.contains($0) }
        #expect(unexpected.isEmpty, "\(unexpected.prefix(5).joined(separator: "\n"))")
        if !known.isEmpty {
            withKnownIssue("a laptop and the hub restored past the same writes: a reused dot overwritten before it reached the hub leaves no trace (PROTOCOL §6.6)") {
                Issue.record("\(known.joined(separator: "\n"))")
            }
        }
    }
}
