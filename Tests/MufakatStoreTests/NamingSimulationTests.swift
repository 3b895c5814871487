import Foundation
import GRDB
import MufakatCore
import MufakatSync
import MufakatTesting
import Synchronization
import Testing
@testable import MufakatStore

/// Random "lost laptop week" schedules on the real stores (protocol 5): the `ReplicaStore`
/// and `HubStore` code a sync runs, driven as `SyncClient` drives it, with the faults of
/// issue 27 — restored and copied laptop folders, a hub restored from an older copy or
/// restarted, lost answers, clocks years off.
///
/// The oracle: every write the hub named is held at the end — as the value or a conflict
/// candidate — unless a write made on a laptop that showed it replaced it; no write is held
/// twice; every replica's digest equals the hub's.
@Suite("Protocol 5 on the real stores: random schedules with restores, copies, lost answers and clocks")
struct NamingSimulationTests {
    enum Fault: String, CaseIterable, Sendable {
        /// Laptop folders restored from a backup, or copied and used beside the original.
        case laptops
        /// The hub restored from an older copy of its file (a new run), or restarted.
        case hub
        /// Answers lost after the hub stored a batch; clocks years off.
        case answers
        /// All of them at once.
        case everything
    }

    static let schedules = ProcessInfo.processInfo.environment["MUFAKAT_SIMULATION_SCHEDULES"].flatMap(Int.init) ?? 1_000

    @Test("no named write is lost or held twice; digests equal", arguments: Fault.allCases)
    func schedules(_ fault: Fault) async throws {
        var failures: [String] = []
        for seed in 0..<UInt64(Self.schedules) {
            let salt = UInt64(Fault.allCases.firstIndex(of: fault)!) << 32
            var world = try await World(seed: seed &* 7_919 &+ salt, fault: fault)
            do {
                try await world.run()
                if let problem = try world.check() {
                    failures.append("seed \(seed): \(problem)\n  " + world.trace.joined(separator: "\n  "))
                }
            } catch {
                failures.append("seed \(seed): \(error)")
            }
            if failures.count >= 3 { break }
        }
        // The counts, for the log `make test` leaves.
        print("protocol 5 simulation, \(fault.rawValue): \(Self.schedules) schedules on the real stores, \(failures.count) failing")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// The oracle must be able to fail: a hub that drops an entry its context covers loses
    /// a named write, and the check says so.
    @Test("the oracle notices a lost write")
    func oracleCanFail() async throws {
        var world = try await World(seed: 42, fault: .laptops)
        try await world.run()
        #expect(try world.check() == nil)
        // Remove one named value from the hub and every replica, as a lossy merge would.
        let (key, value) = try #require(try world.someHeldValue())
        try world.erase(value, in: key)
        #expect(try world.check() != nil)
    }
}

/// One schedule: a hub, three laptops (each a real replica store in memory), and the
/// bookkeeping the oracle needs.
struct World {
    static let meetings = ["mtg-a", "mtg-b"]
    static let fields = ["title", "decisions"]

    var random: SplitMix64
    let fault: NamingSimulationTests.Fault
    var hub: HubStore
    var actor: ReplicaID
    var laptops: [Laptop] = []
    /// Copies kept aside: laptop backups and hub snapshots.
    var laptopBackups: [(index: Int, store: ReplicaStore)] = []
    var hubBackups: [HubStore] = []
    let clock: SimClock
    var nextValue = 0
    /// Each value ever written: the record and field it went to, and the values shown in
    /// that field on the laptop when it was written (what it replaces).
    var written: [String: (key: String, field: String, replaces: Set<String>)] = [:]
    /// Values the hub named (acknowledged writes).
    var named: Set<String> = []
    var tokenID = ""
    /// What happened, for a failure's message.
    var trace: [String] = []

    struct Laptop {
        var store: ReplicaStore
        var replica: String
    }

    final class SimClock: Sendable {
        let now = Mutex<Int64>(1_900_000_000_000)
        func read() -> Int64 { now.withLock { $0 += 1_000; return $0 } }
        func shift(_ delta: Int64) { now.withLock { $0 = max(0, $0 + delta) } }
    }

    init(seed: UInt64, fault: NamingSimulationTests.Fault) async throws {
        random = SplitMix64(seed: seed)
        self.fault = fault
        let clock = SimClock()
        self.clock = clock
        hub = try HubStore.inMemory(clock: clock.read)
        tokenID = try hub.createToken(org: "lead", name: "Lia", role: .coordinator).id
        actor = try hub.startIncarnation().actor
        for index in 0..<3 {
            let replica = "laptop\(index)"
            let store = try ReplicaStore.inMemory(name: "Laptop \(index)", clock: clock.read)
            try await store.writer.write { db in
                var metadata = try ReplicaStore.requireMetadata(db)
                metadata.replica = try ReplicaID(replica)
                try metadata.save(db)
            }
            _ = try await hub.bind(replica: replica, tokenID: tokenID, client: "sim")
            laptops.append(Laptop(store: store, replica: replica))
        }
    }

    mutating func roll(_ n: Int) -> Int { random.next(below: n) }

    mutating func run() async throws {
        for _ in 0..<24 { try await step() }
        // The week ends: everyone syncs, twice, with no fault.
        for _ in 0..<2 {
            for index in laptops.indices { try await sync(index, loseAnswer: false) }
        }
    }

    mutating func step() async throws {
        let faults = fault == .everything ? [NamingSimulationTests.Fault.laptops, .hub, .answers][roll(3)] : fault
        switch roll(10) {
        case 0...4:
            try write(on: roll(laptops.count))
        case 5...7:
            let lose = (faults == .answers) && roll(3) == 0
            try await sync(roll(laptops.count), loseAnswer: lose)
        default:
            switch faults {
            case .laptops:
                let index = roll(laptops.count)
                switch roll(3) {
                case 0:
                    laptopBackups.append((index, try Self.copy(laptops[index].store, clock: clock)))
                    trace.append("backup laptop \(index)")
                case 1:
                    // Restore the laptop from one of its backups (the disk died).
                    let backups = laptopBackups.filter { $0.index == index }
                    if !backups.isEmpty {
                        let which = roll(backups.count)
                        laptops[index].store = try Self.copy(backups[which].store, clock: clock)
                        trace.append("restore laptop \(index) from its backup \(which)")
                    }
                default:
                    // Copy the folder to a new laptop that goes on beside the original.
                    if laptops.count < 5 {
                        laptops.append(Laptop(store: try Self.copy(laptops[index].store, clock: clock), replica: laptops[index].replica))
                        trace.append("copy laptop \(index) to laptop \(laptops.count - 1)")
                    }
                }
            case .hub:
                switch roll(3) {
                case 0:
                    hubBackups.append(try Self.copy(hub, clock: clock))
                    trace.append("backup hub")
                case 1:
                    if !hubBackups.isEmpty {
                        let which = roll(hubBackups.count)
                        hub = try Self.copy(hubBackups[which], clock: clock)
                        actor = try hub.startIncarnation().actor
                        trace.append("restore hub from backup \(which), run \(actor)")
                    }
                default:
                    actor = try hub.startIncarnation().actor
                    trace.append("restart hub, run \(actor)")
                }
            case .answers, .everything:
                // A laptop's clock years off, either way.
                clock.shift(roll(2) == 0 ? -3 * 365 * 86_400_000 : 5 * 365 * 86_400_000)
            }
        }
    }

    mutating func write(on index: Int) throws {
        let store = laptops[index].store
        let key = Self.meetings[roll(Self.meetings.count)]
        let field = Self.fields[roll(Self.fields.count)]
        nextValue += 1
        let value = "v\(nextValue)"
        let shown = try store.state("meetings", id: key)
        let replaces = Set((shown?.fields[field] ?? []).compactMap { entry -> String? in
            if case .string(let text) = entry.value { return text }
            return nil
        })
        var assignments = [(field, value)]
        if shown == nil {
            // A new meeting needs its title and date.
            if field != "title" { assignments.append(("title", "t\(nextValue)")) }
            assignments.append(("date", "2026-11-05"))
        }
        _ = try store.put("meetings", id: key, assignments)
        trace.append("laptop \(index) writes \(key).\(field)=\(value) over \(replaces.sorted())")
        written[value] = (key, field, replaces)
        if shown == nil, field != "title" { written["t\(nextValue)"] = (key, "title", []) }
    }

    /// One sync, as `SyncClient.namedSession` runs it; `loseAnswer` drops the hub's answer
    /// to the first write batch and ends the session there, as a cut connection would.
    mutating func sync(_ index: Int, loseAnswer: Bool) async throws {
        let laptop = laptops[index]
        trace.append("laptop \(index) syncs\(loseAnswer ? ", its answer lost" : "")")
        let replica = try ReplicaID(laptop.replica)
        let view = try await hub.namingView()
        let start = try await laptop.store.beginNamedSync(
            incarnations: view.incarnations.map { ($0.actor.rawValue, $0.fromSequence) }, sequence: try await hub.identity().sequence,
            held: view.held)
        if !start.relayKeys.isEmpty {
            trace.append("  relays \(start.relayKeys.map(\.id))")
            let relayed = try await hub.relay(try await laptop.store.relayRecords(start.relayKeys[...]), from: replica)
            if let refused = relayed.rejected.first { throw SimulationError("relay refused: \(refused.rejection.reason)") }
        }
        var cursor: Int64 = 0
        var skip: [String] = []
        while true {
            let next = try await laptop.store.nextWrites(after: cursor, limit: 3)
            guard !next.writes.isEmpty else { break }
            cursor = next.last
            let batch = "b\(random.next())"
            let results = try await hub.nameWrites(next.writes, incarnation: actor, replica: laptop.replica, push: batch)
            for (write, result) in zip(next.writes, results) {
                if case .named(let name) = result { trace.append("  named \(write.write.values) \(name.dot) earlier=\(name.earlier) exact=\(name.exact)") }
                if case .named = result { for value in write.write.values.values { if case .string(let text) = value { named.insert(text) } } }
            }
            if loseAnswer { return }
            let answers = zip(next.writes, results).map { write, result -> WriteAnswer in
                switch result {
                case .named(let name):
                    return WriteAnswer(
                        write: write.write.id, dot: name.dot, time: name.time, author: name.author, over: name.over, exact: name.exact,
                        earlier: name.earlier, voucher: name.voucher)
                case .refused(let rejection):
                    return WriteAnswer(write: write.write.id, dot: nil, refusal: (rejection.code.rawValue, rejection.fields, rejection.reason))
                }
            }
            if answers.contains(where: { $0.refusal != nil }) {
                throw SimulationError("a write was refused: \(answers.compactMap { $0.refusal?.reason })")
            }
            let outcome = try await laptop.store.acknowledgeWrites(next.writes, answers: answers)
            if outcome.skippable { skip.append(batch) }
        }
        var since = start.checkpoint
        while true {
            let changes = try await hub.changes(since: since, limit: 4, for: replica, vouchers: true, skip: Set(skip))
            let records = try changes.lines.map { line in
                try Array(line.utf8).withUnsafeBytes { try ReplicatedRecord.decode(utf8: $0, form: .compact) }
            }
            _ = try await laptop.store.applyNamedPull(records, through: changes.through, actor: actor.rawValue)
            since = changes.through
            if !changes.more { break }
        }
    }

    static func copy(_ store: ReplicaStore, clock: SimClock) throws -> ReplicaStore {
        let queue = try DatabaseQueue(configuration: ReplicaStore.configuration())
        try store.writer.backup(to: queue)
        return try ReplicaStore(writer: queue, clock: clock.read)
    }

    static func copy(_ store: HubStore, clock: SimClock) throws -> HubStore {
        let queue = try DatabaseQueue(configuration: ReplicaStore.configuration())
        try store.writer.backup(to: queue)
        return try HubStore(writer: queue, clock: clock.read)
    }

    /// What the oracle finds wrong, or `nil`.
    func check() throws -> String? {
        let records = try hub.records()
        var held: [String: [String: [String]]] = [:]
        for record in records {
            for field in Self.fields {
                held[record.id, default: [:]][field] = (record.state.fields[field] ?? []).compactMap {
                    if case .string(let text) = $0.value { return text }
                    return nil
                }
            }
        }
        for (key, fields) in held {
            for (field, values) in fields where Set(values).count != values.count {
                return "\(key).\(field) holds a write twice: \(values.sorted())"
            }
        }
        for value in named.sorted() {
            guard let write = written[value] else { continue }
            if held[write.key]?[write.field]?.contains(value) == true { continue }
            // Gone: only a named write made on a laptop that showed it may have replaced it.
            let replaced = written.contains { other, info in
                info.key == write.key && info.field == write.field && info.replaces.contains(value) && named.contains(other)
            }
            if !replaced { return "\(write.key).\(write.field): named write \(value) is gone, and no named write replaced it" }
        }
        let digest = try hub.digest()
        for (index, laptop) in laptops.enumerated() where try laptop.store.digest() != digest {
            return "laptop \(index) digest differs from the hub's"
        }
        for (index, laptop) in laptops.enumerated() where try laptop.store.pendingCount() != 0 {
            return "laptop \(index) still has \(try laptop.store.pendingCount()) write(s) to send"
        }
        return nil
    }

    func someHeldValue() throws -> (String, String)? {
        for record in try hub.records() {
            for field in Self.fields {
                for entry in record.state.fields[field] ?? [] {
                    if case .string(let text) = entry.value, named.contains(text) { return (record.id, text) }
                }
            }
        }
        return nil
    }

    /// Drops the entry holding `value` from record `key` everywhere, keeping contexts: a lost write.
    func erase(_ value: String, in key: String) throws {
        func drop(_ state: RecordState) throws -> RecordState {
            var fields = state.fields
            for (name, entries) in fields { fields[name] = entries.filter { $0.value != .string(value) } }
            return try RecordState(context: state.context, fields: fields)
        }
        try hub.writer.write { db in
            guard let state = try db.fetchState(collection: "meetings", id: key) else { return }
            try db.saveRecord(collection: "meetings", id: key, state: try drop(state), seq: 0)
        }
        for laptop in laptops {
            try laptop.store.writer.write { db in
                guard let state = try db.fetchState(collection: "meetings", id: key) else { return }
                try db.saveRecord(collection: "meetings", id: key, state: try drop(state), seq: 0)
                try db.execute(sql: "UPDATE records SET named = state WHERE collection = 'meetings' AND id = ?", arguments: [key])
            }
        }
    }
}

struct SimulationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
