import Foundation
import GRDB
import MufakatCore
import MufakatSync
import MufakatTesting
import Synchronization
import Testing
@testable import MufakatStore

/// Random "lost laptop week" schedules on the real stores (protocol 5): the `ReplicaStore`
/// and `HubStore` code a sync runs, on SQLite files in WAL mode (the real journal), driven
/// step by step as `SyncClient.namedSession` drives them, with the faults of issue 27.
///
/// The oracle: every write the hub named is held at the end — as the value or a conflict
/// candidate — unless a write made by someone who was shown it replaced it; no write is held
/// twice; every hostile push that should be refused is; every replica's digest equals the
/// hub's and no replica has a write left to send.
///
/// `MUFAKAT_SIMULATION_SCHEDULES` sets the schedules per class (1,000 by default);
/// `MUFAKAT_SIMULATION_SEED=class:seed` replays one and prints its trace.
@Suite("Protocol 5 on the real stores: random schedules with restores, copies, crashes, lost answers, clocks and hostile pushes")
struct NamingSimulationTests {
    enum Fault: String, CaseIterable, Sendable {
        /// Laptop folders restored from any earlier copy (with or without its WAL), or copied
        /// and used beside the original.
        case laptops
        /// The hub restored from any earlier copy of its files (with or without its WAL),
        /// restarted, or rebuilt empty and refilled in re-seed mode.
        case hub
        /// Sessions broken off: answers lost after the hub stored a batch, pulls cut, kill -9
        /// of a laptop or the hub in the middle of a sync (the files as the crash left them,
        /// opened again), two syncs of one folder at once; clocks years off.
        case sessions
        /// A member's raw pushes: far-future times, forged dots and vouchers, replayed write
        /// ids, contexts naming what it never saw.
        case hostile
        /// All of them in one week.
        case everything
    }

    static let schedules = ProcessInfo.processInfo.environment["MUFAKAT_SIMULATION_SCHEDULES"].flatMap(Int.init) ?? 1_000

    @Test("no named write is lost or held twice; hostile pushes refused; digests equal", arguments: Fault.allCases)
    func schedules(_ fault: Fault) async throws {
        var seeds = Array(0..<UInt64(Self.schedules))
        var verbose = false
        if let replay = ProcessInfo.processInfo.environment["MUFAKAT_SIMULATION_SEED"] {
            let parts = replay.split(separator: ":")
            guard parts.count == 2, parts[0] == fault.rawValue, let seed = UInt64(parts[1]) else { return }
            seeds = [seed]
            verbose = true
        }
        var failures: [String] = []
        var tally = World.Tally()
        let started = ContinuousClock.now
        var ran = 0
        for seed in seeds {
            ran += 1
            var world = try await World(seed: seed, fault: fault)
            defer { world.remove() }
            do {
                try await world.run()
                if let problem = try await world.check() {
                    failures.append("seed \(seed): \(problem)\n  " + world.trace.joined(separator: "\n  "))
                }
            } catch {
                failures.append("seed \(seed): \(error)\n  " + world.trace.joined(separator: "\n  "))
            }
            if verbose { print(world.trace.joined(separator: "\n")) }
            tally.add(world.tally)
            if failures.count >= 3 { break }
        }
        // The counts, for the log `make test` leaves.
        let seconds = Double((ContinuousClock.now - started).components.seconds)
        print("protocol 5 simulation, \(fault.rawValue): \(ran) schedules on the real stores in \(Int(seconds)) s, \(failures.count) failing; \(tally)")
        #expect(failures.isEmpty, "replay one with MUFAKAT_SIMULATION_SEED=\(fault.rawValue):SEED\n\(failures.joined(separator: "\n"))")
        // The faults of the class happened: a class whose schedules never fault proves nothing.
        if seeds.count >= 1_000 { #expect(tally.faults(fault).allSatisfy { $0 > 0 }, "\(tally)") }
    }

    /// Two writes of one hub run on two records, both lost with a hub restore; the laptop
    /// holding the later one relays first (the hub then holds that run up to the later
    /// counter), the other after: both come back.
    @Test("writes of two records lost with the hub come back whichever laptop relays first")
    func twoRecordsLost() async throws {
        for laterFirst in [true, false] {
            var world = try await World(seed: 7, fault: .hub)
            defer { world.remove() }
            try world.write(on: 0, key: "mtg-a", field: "title")
            try world.write(on: 1, key: "mtg-b", field: "title")
            for index in 0..<3 { try await world.sync(index) }
            for index in 0..<3 { try await world.sync(index) }
            try world.backupHub(wal: true)
            try world.write(on: 0, key: "mtg-a", field: "decisions")      // named first
            try await world.sync(0, cutAfter: 2)                               // named and applied; its pull cut
            try world.write(on: 1, key: "mtg-b", field: "decisions")      // named later
            try await world.sync(1, cutAfter: 2)
            try world.restoreHub(0)
            try await world.sync(laterFirst ? 1 : 0)
            try await world.sync(laterFirst ? 0 : 1)
            for _ in 0..<2 { for index in 0..<3 { try await world.sync(index) } }
            let problem = try await world.check()
            let trace = world.trace.joined(separator: "\n")
            #expect(problem == nil, "\(laterFirst ? "later" : "earlier") relayed first: \(problem ?? "")\n\(trace)")
        }
    }

    /// The oracle must be able to fail: a hub that drops an entry its context covers loses
    /// a named write, and the check says so.
    @Test("the oracle notices a lost write")
    func oracleCanFail() async throws {
        var world = try await World(seed: 42, fault: .laptops)
        defer { world.remove() }
        try await world.run()
        #expect(try await world.check() == nil)
        // Remove one named value from the hub and every replica, as a lossy merge would.
        let (key, value) = try #require(try world.someHeldValue())
        try world.erase(value, in: key)
        #expect(try await world.check() != nil)
    }
}

/// Migrated, empty hub and replica files, made once per test process and copied for every
/// schedule: migrating each new file would cost more than the schedule itself.
enum SimulationTemplates {
    static let root: String = {
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let root = (base as NSString).appendingPathComponent("mufakat-sim-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return root
    }()

    static let hub: String = {
        let directory = (root as NSString).appendingPathComponent("template-hub")
        do {
            let store = try HubStore.open(directory: directory)
            try store.writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } catch { fatalError("simulation: cannot make the hub template: \(error)") }
        return (directory as NSString).appendingPathComponent(HubStore.fileName)
    }()

    static let replica: String = {
        let path = (root as NSString).appendingPathComponent("template-replica/replica.sqlite")
        do {
            let store = try ReplicaStore.create(at: path, hub: "hub.example:7420", token: "simulation", name: "Laptop")
            try store.writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } catch { fatalError("simulation: cannot make the replica template: \(error)") }
        return path
    }()
}

/// One schedule: a hub and three laptops, each a real store on its own SQLite file, a
/// hostile member, and the bookkeeping the oracle needs.
struct World {
    static let meetings = ["mtg-a", "mtg-b"]
    /// Steps of the week before everyone's closing syncs.
    static let steps = 20
    static let fields = ["title", "decisions"]

    /// What the schedules did, summed over a class for its closing line.
    struct Tally: CustomStringConvertible {
        var writes = 0, syncs = 0, named = 0
        var laptopBackups = 0, laptopRestores = 0, laptopRestoresWithoutWAL = 0, copies = 0
        var hubBackups = 0, hubRestores = 0, hubRestoresWithoutWAL = 0, hubRestarts = 0, hubRebuilds = 0
        var lostAnswers = 0, cutPulls = 0, clockShifts = 0
        var laptopKills = 0, hubKills = 0, doubleSyncs = 0
        var hostileRefused = 0, hostileNamed = 0, replays = 0

        mutating func add(_ other: Tally) {
            writes += other.writes; syncs += other.syncs; named += other.named
            laptopBackups += other.laptopBackups; laptopRestores += other.laptopRestores
            laptopRestoresWithoutWAL += other.laptopRestoresWithoutWAL; copies += other.copies
            hubBackups += other.hubBackups; hubRestores += other.hubRestores; hubRestoresWithoutWAL += other.hubRestoresWithoutWAL
            hubRestarts += other.hubRestarts; hubRebuilds += other.hubRebuilds
            lostAnswers += other.lostAnswers; cutPulls += other.cutPulls; clockShifts += other.clockShifts
            laptopKills += other.laptopKills; hubKills += other.hubKills; doubleSyncs += other.doubleSyncs
            hostileRefused += other.hostileRefused; hostileNamed += other.hostileNamed; replays += other.replays
        }

        /// The counts of the faults a class injects.
        func faults(_ fault: NamingSimulationTests.Fault) -> [Int] {
            switch fault {
            case .laptops: [laptopRestores, laptopRestoresWithoutWAL, copies]
            case .hub: [hubRestores, hubRestoresWithoutWAL, hubRestarts, hubRebuilds]
            case .sessions: [lostAnswers, cutPulls, clockShifts, laptopKills, hubKills, doubleSyncs]
            case .hostile: [hostileRefused, hostileNamed, replays]
            case .everything: faults(.laptops) + faults(.hub) + faults(.sessions) + faults(.hostile)
            }
        }

        var description: String {
            "writes \(writes), syncs \(syncs), named \(named); laptops: \(laptopRestores) restored (\(laptopRestoresWithoutWAL) without WAL), "
                + "\(copies) copied; hub: \(hubRestores) restored (\(hubRestoresWithoutWAL) without WAL), \(hubRestarts) restarted, "
                + "\(hubRebuilds) rebuilt empty; \(lostAnswers) answers lost, \(cutPulls) pulls cut, \(clockShifts) clocks shifted; "
                + "kill -9: \(laptopKills) laptops, \(hubKills) hub; \(doubleSyncs) double syncs; hostile: \(hostileRefused) refused, "
                + "\(hostileNamed) named, \(replays) replays"
        }
    }

    struct Laptop {
        var store: ReplicaStore
        var path: String
        var replica: String
    }

    final class SimClock: Sendable {
        let now = Mutex<Int64>(1_900_000_000_000)
        func read() -> Int64 { now.withLock { $0 += 1_000; return $0 } }
        func shift(_ delta: Int64) { now.withLock { $0 = max(0, $0 + delta) } }
    }

    var random: SplitMix64
    let fault: NamingSimulationTests.Fault
    let directory: String
    var files = 0
    var hub: HubStore
    var hubDirectory: String
    var actor: ReplicaID
    /// Re-seed mode: on from a rebuild to the end of the week.
    var reseed = false
    var laptops: [Laptop] = []
    /// Folder copies kept aside: laptop backups (by laptop) and hub snapshots.
    var laptopBackups: [(index: Int, path: String, wal: Bool)] = []
    var hubBackups: [(directory: String, wal: Bool)] = []
    let clock: SimClock
    var nextValue = 0
    /// Each value ever written: the record and field it went to, and the values shown in
    /// that field to its writer when it was written (what it replaces).
    var written: [String: (key: String, field: String, replaces: Set<String>)] = [:]
    /// Values the hub named (acknowledged writes).
    var named: Set<String> = []
    var tokenID = ""
    var rogueTokenID = ""
    /// Values the hostile member wrote. It keeps no replica: what only the hub held of them
    /// is lost with the hub's disk, as anything is that no one else holds.
    var hostile: Set<String> = []
    /// Write lines a hostile member captured (sent by laptops), to replay.
    var captured: [PushedWrite] = []
    var tally = Tally()
    /// What happened, for a failure's message.
    var trace: [String] = []

    init(seed: UInt64, fault: NamingSimulationTests.Fault) async throws {
        let salt = UInt64(NamingSimulationTests.Fault.allCases.firstIndex(of: fault)!) << 32
        random = SplitMix64(seed: seed &* 7_919 &+ salt)
        self.fault = fault
        let clock = SimClock()
        self.clock = clock
        directory = (SimulationTemplates.root as NSString).appendingPathComponent("\(fault.rawValue)-\(seed)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        hubDirectory = (directory as NSString).appendingPathComponent("first-hub")
        hub = try Self.newHub(in: hubDirectory, clock: clock)
        actor = try hub.startIncarnation().actor
        (tokenID, rogueTokenID) = try Self.tokens(hub)
        for index in 0..<3 {
            let replica = "laptop\(index)"
            let path = (directory as NSString).appendingPathComponent("first-laptop-\(index)/replica.sqlite")
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: SimulationTemplates.replica, toPath: path)
            let store = try ReplicaStore.open(at: path, clock: clock.read)
            try await store.writer.write { db in
                var metadata = try ReplicaStore.requireMetadata(db)
                metadata.replica = try ReplicaID(replica)
                metadata.name = "Laptop \(index)"
                try metadata.save(db)
            }
            laptops.append(Laptop(store: store, path: path, replica: replica))
        }
        try await bindAll()
    }

    /// A hub from the template, with its own id and voucher key, as `mufakat-hub serve` makes one.
    static func newHub(in directory: String, clock: SimClock) throws -> HubStore {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: SimulationTemplates.hub, toPath: (directory as NSString).appendingPathComponent(HubStore.fileName))
        let hub = try HubStore.open(directory: directory, clock: clock.read)
        try hub.writer.write { db in
            try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'hubID'", arguments: [ReplicaID.random().rawValue])
            try db.execute(
                sql: "UPDATE meta SET value = ? WHERE key = 'voucherKey'",
                arguments: [Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()])
        }
        // As a new hub does (HubStore.init): its id and key are in the file, not only the WAL.
        try hub.writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        return hub
    }

    static func tokens(_ hub: HubStore) throws -> (String, String) {
        (try hub.createToken(org: "lead", name: "Lia", role: .coordinator).id, try hub.createToken(org: "rogue", name: "Rob", role: .member).id)
    }

    mutating func bindAll() async throws {
        for replica in Set(laptops.map(\.replica)) { _ = try await hub.bind(replica: replica, tokenID: tokenID, client: "sim") }
        _ = try await hub.bind(replica: "rogue", tokenID: rogueTokenID, client: "raw")
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    mutating func roll(_ n: Int) -> Int { random.next(below: n) }

    mutating func newPath(_ name: String) -> String {
        files += 1
        return (directory as NSString).appendingPathComponent("\(name)-\(files)")
    }

    /// Copies a SQLite file and, with `wal`, its journal, as `cp` of a folder does while the
    /// program that has it open is idle or killed. Without the journal the copy holds the
    /// file as of its last checkpoint.
    static func copyFiles(_ path: String, to target: String, wal: Bool) throws {
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: path, toPath: target)
        if wal, FileManager.default.fileExists(atPath: path + "-wal") {
            try FileManager.default.copyItem(atPath: path + "-wal", toPath: target + "-wal")
        }
    }

    mutating func run() async throws {
        for _ in 0..<Self.steps { try await step() }
        // The week ends: everyone syncs, twice, with no fault.
        for _ in 0..<2 {
            for index in laptops.indices { try await sync(index) }
        }
    }

    mutating func step() async throws {
        let faults: NamingSimulationTests.Fault =
            fault == .everything ? [NamingSimulationTests.Fault.laptops, .hub, .sessions, .hostile][roll(4)] : fault
        switch roll(10) {
        case 0...4:
            try write(on: roll(laptops.count))
        case 5...7:
            let index = roll(laptops.count)
            switch (faults, roll(6)) {
            case (.sessions, 0), (.sessions, 1):
                try await sync(index, cutAfter: 1 + roll(4))
            case (.sessions, 2):
                try await killDuringSync(index)
            case (.sessions, 3):
                try await doubleSync(index)
            default:
                try await sync(index)
            }
        default:
            switch faults {
            case .laptops: try await laptopFault()
            case .hub: try await hubFault()
            case .sessions:
                if roll(2) == 0 {
                    // A laptop's clock years off, either way.
                    clock.shift(roll(2) == 0 ? -3 * 365 * 86_400_000 : 5 * 365 * 86_400_000)
                    tally.clockShifts += 1
                    trace.append("clock shifted")
                } else {
                    // SQLite moves the journal into the file now and then; a crash image then
                    // holds part of the data in the file, part in the journal.
                    let index = roll(laptops.count)
                    try await Self.checkpoint(laptops[index].store.writer)
                    try await Self.checkpoint(hub.writer)
                    trace.append("checkpoint laptop \(index) and hub")
                }
            case .hostile: try await hostilePush()
            case .everything: break
            }
        }
    }

    // MARK: Writes

    mutating func write(on index: Int) throws {
        let key = Self.meetings[roll(Self.meetings.count)]
        try write(on: index, key: key, field: Self.fields[roll(Self.fields.count)])
    }

    mutating func write(on index: Int, key: String, field: String) throws {
        let store = laptops[index].store
        nextValue += 1
        let value = "v\(nextValue)"
        let shown = try store.state("meetings", id: key)
        let replaces = Self.strings(shown?.fields[field] ?? [])
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
        tally.writes += 1
    }

    static func strings(_ entries: [FieldEntry]) -> Set<String> {
        Set(entries.compactMap { entry -> String? in
            if case .string(let text) = entry.value { return text }
            return nil
        })
    }

    // MARK: Sessions

    /// One sync session's progress, stepped one message at a time as `SyncClient.namedSession`
    /// sends them: begin (after `welcome`), relay batches, write batches, pull batches.
    struct Session {
        enum Stage { case begin, relay, write, pull, done }
        var index: Int
        var store: ReplicaStore
        var replica: String
        var stage = Stage.begin
        var relayKeys: ArraySlice<RecordKey> = []
        var cursor: Int64 = 0
        var skip: [String] = []
        var since: UInt64 = 0
        var messages = 0
        /// Writes per `write` batch and records per `changes` batch: small ones cross batch
        /// edges often, as the hub's limits do with big backlogs.
        var batch = 3
    }

    mutating func session(_ index: Int) -> Session {
        Session(index: index, store: laptops[index].store, replica: laptops[index].replica, batch: roll(3) == 0 ? 2 : 100)
    }

    /// A whole sync; `cutAfter` ends it after that many messages to the hub, the last one's
    /// answer lost (the hub stored the batch, the laptop never heard).
    mutating func sync(_ index: Int, cutAfter: Int? = nil) async throws {
        trace.append("laptop \(index) syncs\(cutAfter.map { ", cut after \($0) message(s)" } ?? "")")
        tally.syncs += 1
        var session = session(index)
        while session.stage != .done {
            let last = cutAfter.map { session.messages + 1 >= $0 } ?? false
            try await advance(&session, loseAnswer: last)
            if last, session.stage != .done {
                if session.stage == .pull { tally.cutPulls += 1 } else { tally.lostAnswers += 1 }
                return
            }
        }
    }

    /// kill -9 in the middle of a sync: of the laptop (its files, as the crash left them, are
    /// opened again) or of the hub (opened again from its files as a new run).
    mutating func killDuringSync(_ index: Int) async throws {
        let stopAt = 1 + roll(5)
        let killHub = roll(2) == 0
        trace.append("laptop \(index) syncs; kill -9 of the \(killHub ? "hub" : "laptop") after \(stopAt) message(s)")
        tally.syncs += 1
        var session = session(index)
        while session.stage != .done, session.messages < stopAt {
            try await advance(&session, loseAnswer: session.messages + 1 == stopAt && roll(2) == 0)
        }
        if killHub {
            let crashed = newPath("hub")
            try Self.copyFiles((hubDirectory as NSString).appendingPathComponent(HubStore.fileName), to: (crashed as NSString).appendingPathComponent(HubStore.fileName), wal: true)
            hubDirectory = crashed
            hub = try HubStore.open(directory: crashed, clock: clock.read)
            actor = try hub.startIncarnation().actor
            tally.hubKills += 1
            trace.append("  hub starts again, run \(actor)")
        } else {
            let crashed = newPath("laptop") + "/replica.sqlite"
            try Self.copyFiles(laptops[index].path, to: crashed, wal: true)
            laptops[index].store = try ReplicaStore.open(at: crashed, clock: clock.read)
            laptops[index].path = crashed
            tally.laptopKills += 1
        }
    }

    /// Two syncs of one folder at once (the web app's and a terminal's): two connections to
    /// the same files, their messages interleaved at random.
    mutating func doubleSync(_ index: Int) async throws {
        trace.append("laptop \(index) syncs twice at once")
        tally.doubleSyncs += 1
        tally.syncs += 2
        var first = session(index)
        var second = session(index)
        second.store = try ReplicaStore.open(at: laptops[index].path, clock: clock.read)
        while first.stage != .done || second.stage != .done {
            if second.stage == .done || (first.stage != .done && roll(2) == 0) {
                try await advance(&first, loseAnswer: false)
            } else {
                try await advance(&second, loseAnswer: false)
            }
        }
    }

    /// One message of a session and its answer.
    mutating func advance(_ session: inout Session, loseAnswer: Bool) async throws {
        let replica = try ReplicaID(session.replica)
        let store = session.store
        switch session.stage {
        case .begin:
            let view = try await hub.namingView()
            let identity = try await hub.identity()
            let start = try await store.beginNamedSync(
                incarnations: view.incarnations.map { ($0.actor.rawValue, $0.fromSequence) }, sequence: identity.sequence,
                held: view.held, reseed: reseed, hubID: identity.hubID)
            session.relayKeys = start.relayKeys[...]
            session.since = start.checkpoint
            session.stage = session.relayKeys.isEmpty ? .write : .relay
            if !start.relayKeys.isEmpty { trace.append("  relays \(start.relayKeys.map(\.id))") }
        case .relay:
            session.messages += 1
            let keys = session.relayKeys.prefix(session.batch)
            session.relayKeys = session.relayKeys.dropFirst(keys.count)
            if session.relayKeys.isEmpty { session.stage = .write }
            let records = try await store.relayRecords(keys)
            guard !records.isEmpty else {
                if session.relayKeys.isEmpty { try await store.noteRelayPass(run: actor.rawValue) }
                return
            }
            let relayed = try await hub.relay(records, from: replica, reseed: reseed)
            if let refused = relayed.rejected.first { throw SimulationError("relay refused: \(refused.rejection.reason)") }
            if loseAnswer {
                session.stage = .done
            } else if session.relayKeys.isEmpty {
                try await store.noteRelayPass(run: actor.rawValue)
            }
        case .write:
            let next = try await store.nextWrites(after: session.cursor, limit: session.batch)
            guard !next.writes.isEmpty else {
                session.stage = .pull
                return
            }
            session.messages += 1
            session.cursor = next.last
            let batch = "b\(random.next())"
            let results = try await hub.nameWrites(next.writes, incarnation: actor, replica: session.replica, push: batch)
            captured.append(contentsOf: next.writes.prefix(1))
            for (write, result) in zip(next.writes, results) {
                guard case .named(let name) = result else { continue }
                trace.append("  named \(write.write.values) \(name.dot) earlier=\(name.earlier) exact=\(name.exact)")
                for value in write.write.values.values { if case .string(let text) = value { named.insert(text) } }
                if !name.earlier { tally.named += 1 }
            }
            if loseAnswer {
                session.stage = .done
                return
            }
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
                throw SimulationError("an honest write was refused: \(answers.compactMap { $0.refusal?.reason })")
            }
            let outcome = try await store.acknowledgeWrites(next.writes, answers: answers)
            if outcome.skippable { session.skip.append(batch) }
        case .pull:
            session.messages += 1
            let changes = try await hub.changes(since: session.since, limit: session.batch, for: replica, vouchers: true, skip: Set(session.skip))
            let records = try changes.lines.map { line in
                try Array(line.utf8).withUnsafeBytes { try ReplicatedRecord.decode(utf8: $0, form: .compact) }
            }
            if loseAnswer {
                session.stage = .done
                return
            }
            _ = try await store.applyNamedPull(records, through: changes.through, actor: actor.rawValue)
            session.since = changes.through
            if !changes.more { session.stage = .done }
        case .done:
            return
        }
    }

    // MARK: Faults

    /// SQLite moves the journal into the file now and then (at 1,000 pages); a copy
    /// without the journal holds what was moved.
    static func checkpoint(_ writer: any DatabaseWriter) async throws {
        try await writer.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
    }

    mutating func laptopFault() async throws {
        let index = roll(laptops.count)
        switch roll(3) {
        case 0:
            let wal = roll(3) != 0
            if !wal, roll(2) == 0 { try await Self.checkpoint(laptops[index].store.writer) }
            let backup = newPath("backup") + "/replica.sqlite"
            try Self.copyFiles(laptops[index].path, to: backup, wal: wal)
            laptopBackups.append((index, backup, wal))
            tally.laptopBackups += 1
            trace.append("backup laptop \(index)\(wal ? "" : " without its WAL")")
        case 1:
            // The disk died: the folder comes back from one of its backups.
            let backups = laptopBackups.filter { $0.index == index }
            guard !backups.isEmpty else { return }
            let which = roll(backups.count)
            let path = newPath("laptop") + "/replica.sqlite"
            try Self.copyFiles(backups[which].path, to: path, wal: true)
            laptops[index].store = try ReplicaStore.open(at: path, clock: clock.read)
            laptops[index].path = path
            tally.laptopRestores += 1
            if !backups[which].wal { tally.laptopRestoresWithoutWAL += 1 }
            trace.append("restore laptop \(index) from its backup \(which)")
        default:
            // The folder copied to a new laptop that goes on beside the original.
            guard laptops.count < 5 else { return }
            let path = newPath("laptop") + "/replica.sqlite"
            try Self.copyFiles(laptops[index].path, to: path, wal: true)
            laptops.append(Laptop(store: try ReplicaStore.open(at: path, clock: clock.read), path: path, replica: laptops[index].replica))
            tally.copies += 1
            trace.append("copy laptop \(index) to laptop \(laptops.count - 1)")
        }
    }

    /// Copies the hub's file (and, with `wal`, its journal) aside.
    mutating func backupHub(wal: Bool) throws {
        let backup = newPath("hub-backup")
        try Self.copyFiles(
            (hubDirectory as NSString).appendingPathComponent(HubStore.fileName), to: (backup as NSString).appendingPathComponent(HubStore.fileName),
            wal: wal)
        hubBackups.append((backup, wal))
        tally.hubBackups += 1
        trace.append("backup hub\(wal ? "" : " without its WAL")")
    }

    /// The hostile member's values no laptop holds: they go with the hub's disk.
    mutating func forgetHostileOnlyOnHub() throws {
        var onLaptops: Set<String> = []
        for laptop in laptops {
            for key in Self.meetings {
                guard let state = try laptop.store.state("meetings", id: key) else { continue }
                for entries in state.fields.values { onLaptops.formUnion(Self.strings(entries)) }
            }
        }
        for value in hostile where !onLaptops.contains(value) { named.remove(value) }
    }

    /// The hub's disk died: it starts again, a new run, from backup `which`.
    mutating func restoreHub(_ which: Int) throws {
        try forgetHostileOnlyOnHub()
        let restored = newPath("hub")
        try Self.copyFiles(
            (hubBackups[which].directory as NSString).appendingPathComponent(HubStore.fileName),
            to: (restored as NSString).appendingPathComponent(HubStore.fileName), wal: true)
        hubDirectory = restored
        hub = try HubStore.open(directory: restored, clock: clock.read)
        actor = try hub.startIncarnation().actor
        tally.hubRestores += 1
        if !hubBackups[which].wal { tally.hubRestoresWithoutWAL += 1 }
        trace.append("restore hub from backup \(which), run \(actor)")
    }

    mutating func hubFault() async throws {
        switch roll(7) {
        case 0, 1:
            let wal = roll(2) == 0
            if !wal, roll(2) == 0 { try await Self.checkpoint(hub.writer) }
            try backupHub(wal: wal)
        case 2, 3:
            guard !hubBackups.isEmpty else { return }
            try restoreHub(roll(hubBackups.count))
        case 4, 5:
            actor = try hub.startIncarnation().actor
            tally.hubRestarts += 1
            trace.append("restart hub, run \(actor)")
        default:
            // The disk and every backup lost: a new hub, new tokens, re-seed mode until the week ends.
            guard !reseed else { return }
            try forgetHostileOnlyOnHub()
            hubDirectory = newPath("hub")
            hub = try Self.newHub(in: hubDirectory, clock: clock)
            actor = try hub.startIncarnation().actor
            (tokenID, rogueTokenID) = try Self.tokens(hub)
            try await bindAll()
            hubBackups = []
            reseed = true
            tally.hubRebuilds += 1
            trace.append("hub rebuilt empty in re-seed mode, run \(actor)")
        }
    }

    /// A member ("Rob (rogue)") pushing by hand. Forged pushes must be refused and change
    /// nothing; well-formed ones are writes like any other, their values held unless replaced.
    mutating func hostilePush() async throws {
        let key = Self.meetings[roll(Self.meetings.count)]
        let field = Self.fields[roll(Self.fields.count)]
        let record = try hub.records().first { $0.collection == "meetings" && $0.id == key }
        nextValue += 1
        let value = "r\(nextValue)"
        func write(context: VersionVector, after: [WriteID] = [], enteredAt: Int64 = 1_900_000_000_000) -> PushedWrite {
            var values: [String: FieldValue] = [field: .string(value)]
            if record == nil { values["date"] = .string("2026-11-05"); if field != "title" { values["title"] = .string("t-" + value) } }
            return PushedWrite(
                collection: "meetings", id: key,
                write: PendingWrite(id: Self.randomWriteID(), values: values, context: context, after: after, enteredAt: enteredAt, author: "Rob"))
        }
        let held = record?.state.context ?? VersionVector()
        switch roll(6) {
        case 0:
            // A dot of a hub run, beyond what that run named: refused, nothing stored.
            var counters = held.counters
            counters[actor] = (counters[actor] ?? 0) + 1_000
            let forged = VersionVector(counters)
            try await expectRefused(write(context: forged), "a context naming a dot the hub never issued")
        case 1:
            // A relayed state under a forged voucher: refused.
            guard var record, let entry = record.state.fields[field]?.first else { return }
            var fields = record.state.fields
            fields[field] = [FieldEntry(dot: entry.dot, value: .string(value), time: entry.time, author: entry.author)]
            record.state = try RecordState(context: record.state.context, fields: fields)
            record.voucher = String(repeating: "A", count: ReplicatedRecord.voucherCharacters)
            let before = try hub.digest()
            let relayed = try await hub.relay([record], from: try ReplicaID("rogue"), reseed: false)
            guard relayed.merged == 0, try hub.digest() == before else {
                throw SimulationError("a relay under a forged voucher changed the hub")
            }
            tally.hostileRefused += 1
            trace.append("rogue relays \(key).\(field)=\(value) under a forged voucher: refused")
        case 2:
            // A laptop's write replayed under its write id with another value: the hub
            // answers the same name and stores nothing new.
            guard !captured.isEmpty else { return }
            var replay = captured[roll(captured.count)]
            replay.write.values = replay.write.values.mapValues { _ in .string(value) }
            let before = try hub.digest()
            let results = try await hub.nameWrites([replay], incarnation: actor, replica: "rogue", push: "r\(random.next())")
            if case .named(let name) = results[0], !name.earlier {
                throw SimulationError("a replayed write id was named again, as \(name.dot)")
            }
            guard try hub.digest() == before else { throw SimulationError("a replayed write id changed the hub") }
            tally.replays += 1
            trace.append("rogue replays write \(replay.write.id) with \(value): \(results[0])")
        default:
            // Well-formed, with a time far in the future or past, and a context that saw
            // everything the hub shows, nothing, or ids it made up.
            let context = roll(2) == 0 ? held : VersionVector()
            let after = roll(3) == 0 ? [Self.randomWriteID()] : []
            let enteredAt: Int64 = [4_102_444_800_000, 0, 1_900_000_000_000][roll(3)]
            let pushed = write(context: context, after: after, enteredAt: enteredAt)
            let results = try await hub.nameWrites([pushed], incarnation: actor, replica: "rogue", push: "r\(random.next())")
            guard case .named(let name) = results[0] else {
                throw SimulationError("a well-formed member's write was refused: \(results[0])")
            }
            let replaces = context.counters.isEmpty ? [] : Self.strings(record?.state.fields[field] ?? [])
            written[value] = (key, field, replaces)
            if record == nil, field != "title" { written["t-" + value] = (key, "title", []) }
            named.insert(value)
            hostile.insert(value)
            if record == nil, field != "title" {
                named.insert("t-" + value)
                hostile.insert("t-" + value)
            }
            tally.hostileNamed += 1
            trace.append("rogue writes \(key).\(field)=\(value) over \(replaces.sorted()) at \(enteredAt), named \(name.dot)")
        }
    }

    mutating func expectRefused(_ write: PushedWrite, _ what: String) async throws {
        let before = try hub.digest()
        let results = try await hub.nameWrites([write], incarnation: actor, replica: "rogue", push: "r\(random.next())")
        guard case .refused = results[0], try hub.digest() == before else {
            throw SimulationError("\(what) was not refused: \(results[0])")
        }
        tally.hostileRefused += 1
        trace.append("rogue pushes \(what): refused")
    }

    static func randomWriteID() -> WriteID {
        let hex = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return try! WriteID(hex + "-1")
    }

    // MARK: Oracle

    /// What the oracle finds wrong, or `nil`.
    func check() async throws -> String? {
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
            // Gone: only a named write made by someone shown it may have replaced it.
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
