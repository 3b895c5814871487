import MufakatTesting
import PropertyBased
import Testing
@testable import MufakatCore

@Suite("Write ids")
struct WriteIDTests {
    static let hex = "0123456789abcdef0123456789abcdef"

    @Test("accepts 32 lowercase hex digits, '-', a number from 1", arguments: [
        "\(hex)-1", "\(hex)-42", "ffffffffffffffffffffffffffffffff-18446744073709551615", "00000000000000000000000000000000-9",
    ])
    func accepts(_ raw: String) throws {
        #expect(try WriteID(raw).rawValue == raw)
    }

    @Test("refuses anything else, naming what is accepted", arguments: [
        "", "\(hex)", "\(hex)-", "\(hex)-0", "\(hex)-01", "\(hex)-18446744073709551616", "\(hex)-1x",
        "0123456789ABCDEF0123456789abcdef-1", "0123456789abcdef0123456789abcde-1", "0123456789abcdef0123456789abcdef0-1",
        "\(hex)+1", "\(hex)--1", " \(hex)-1", "\(hex)-1 ", "\(hex)-١",
    ])
    func refuses(_ raw: String) {
        #expect(throws: MufakatError.self) { try WriteID(raw) }
        do {
            _ = try WriteID(raw)
        } catch {
            #expect(error.message.contains("32 lowercase hexadecimal digits"))
        }
    }

    @Test("one source numbers its writes from 1 under one random part; two sources differ")
    func sources() throws {
        var a = WriteIDSource()
        var b = WriteIDSource()
        let first = a.next()
        let second = a.next()
        #expect(WriteID.isValid(first.rawValue) && WriteID.isValid(second.rawValue))
        #expect(first.rawValue.hasSuffix("-1") && second.rawValue.hasSuffix("-2"))
        #expect(first.rawValue.prefix(32) == second.rawValue.prefix(32))
        #expect(b.next().rawValue.prefix(32) != first.rawValue.prefix(32))
        // Seeded sources repeat (for reproducible tests); the system's never does here.
        var g1 = SplitMix64(seed: 7)
        var g2 = SplitMix64(seed: 7)
        var s1 = WriteIDSource(using: &g1)
        var s2 = WriteIDSource(using: &g2)
        #expect(s1.next() == s2.next())
    }

    @Test("a local dot stands for its write id and for nothing the hub issues")
    func localDots() throws {
        let id = try WriteID("\(Self.hex)-3")
        #expect(id.localDot.counter == 1)
        #expect(WriteID(localDot: id.localDot) == id)
        #expect(WriteID(localDot: Dot(replica: id.localDot.replica, counter: 2)) == nil)
        #expect(WriteID(localDot: Dot(replica: try ReplicaID("3f9c0a17be2d4410"), counter: 1)) == nil)
        #expect(WriteID(localDot: Dot(replica: try ReplicaID("w-nothex"), counter: 1)) == nil)
    }
}

/// The hub's half of naming in memory: what the hub store does for each pushed write, in
/// the order the design gives (docs/write-naming.md §3), over the real `applyingNamed`.
struct NamingHub {
    var actor: ReplicaID
    var counter: UInt64 = 0
    var clock: Int64 = 1_800_000_000_000
    var states: [String: RecordState] = [:]
    /// Write id → the record and dot the hub named it with (reserved ones included).
    var named: [WriteID: (key: String, dot: Dot)] = [:]
    /// What each named write had seen: its pushed context and its resolved `after` dots.
    var seen: [Dot: (context: VersionVector, over: Set<Dot>)] = [:]
    var incarnations = 1
    var fresh = 0
    var replayed = 0
    var reserved = 0

    init(actor: String = "hub-1") { self.actor = try! ReplicaID(actor) }

    /// A hub start: a new actor, so a counter is never issued twice.
    mutating func restart() {
        incarnations += 1
        actor = try! ReplicaID("hub-\(incarnations)")
        counter = 0
    }

    mutating func nextDot() -> Dot {
        counter += 1
        return Dot(replica: actor, counter: counter)
    }

    /// Names `write` of `key` (idempotent by write id) and returns its dot.
    mutating func name(_ write: PendingWrite, key: String, author: String) throws -> Dot {
        if let known = named[write.id] {
            #expect(known.key == key)
            replayed += 1
            return known.dot
        }
        var over: Set<Dot> = []
        for earlier in write.after {
            if let known = named[earlier] {
                over.insert(known.dot)
            } else {
                let dot = nextDot()
                named[earlier] = (key, dot)
                reserved += 1
                over.insert(dot)
            }
        }
        let dot = nextDot()
        clock += 1_000
        states[key] = try (states[key] ?? RecordState()).applyingNamed(
            write.values, seen: write.context, over: over, dot: dot, time: clock, author: author)
        named[write.id] = (key, dot)
        seen[dot] = (write.context, over)
        fresh += 1
        return dot
    }

    /// Whether the named write `later` had seen `earlier`, directly or through the writes it
    /// named in `after`.
    func saw(_ later: Dot, _ earlier: Dot) -> Bool {
        var stack = [later]
        var visited: Set<Dot> = []
        while let dot = stack.popLast() {
            guard visited.insert(dot).inserted, let facts = seen[dot] else { continue }
            if facts.context.contains(earlier) || facts.over.contains(earlier) { return true }
            stack.append(contentsOf: facts.over)
        }
        return false
    }
}

/// A laptop's half: named states as pulled, pending writes in order, the dots the hub gave
/// to writes still pending. A folder copy or a restore is a copy of this value.
struct NamingLaptop {
    var name: String
    var named: [String: RecordState] = [:]
    var pending: [(key: String, write: PendingWrite)] = []
    var dots: [WriteID: Dot] = [:]
    var clock: Int64

    func shown(_ key: String) -> RecordState {
        (named[key] ?? RecordState()).overlaying(pending.filter { $0.key == key }.map(\.write), named: dots)
    }

    @discardableResult
    mutating func write(_ key: String, _ values: [String: FieldValue], ids: inout WriteIDSource) -> PendingWrite {
        clock += 1_000
        let write = PendingWrite(
            id: ids.next(), values: values, context: named[key]?.context ?? VersionVector(),
            after: pending.filter { $0.key == key }.map(\.write.id), enteredAt: clock, author: name)
        pending.append((key, write))
        return write
    }

    /// Pushes the first `limit` pending writes; learns their dots unless the answer is lost.
    mutating func push(to hub: inout NamingHub, limit: Int = .max, answerLost: Bool = false) throws {
        for (key, write) in pending.prefix(limit) {
            let dot = try hub.name(write, key: key, author: "\(name) (hub)")
            if !answerLost { dots[write.id] = dot }
        }
    }

    /// Pulls every state and drops the pending writes the named states now hold.
    mutating func pull(from hub: NamingHub) {
        named = hub.states
        pending.removeAll { key, write in
            guard let dot = dots[write.id] else { return false }
            return named[key]?.context.contains(dot) == true
        }
    }
}

/// The five losses of issue 27, each on the real naming functions.
@Suite("The hub names every write: restored, copied and slow-clocked laptops lose nothing")
struct WriteNamingCaseTests {
    let meeting = "m-1"

    /// B creates m-1; A syncs and is backed up; A writes W1 and syncs; A is restored and
    /// writes X1 then X2. W1 must stand beside X2 (before 0.8 it vanished).
    @Test("a restored laptop that edits one record twice keeps the synced write as a conflict")
    func restoredEditsTwice() throws {
        var hub = NamingHub()
        var ids = WriteIDSource()
        var a = NamingLaptop(name: "A", clock: 1_000)
        var b = NamingLaptop(name: "B", clock: 1_000)
        b.write(meeting, ["title": .string("March"), "decisions": .string("")], ids: &ids)
        try b.push(to: &hub)
        b.pull(from: hub)
        a.pull(from: hub)
        let backup = a
        a.write(meeting, ["decisions": .string("W1")], ids: &ids)
        try a.push(to: &hub)
        a.pull(from: hub)
        b.pull(from: hub)
        #expect(b.shown(meeting).displayValue(of: "decisions") == .string("W1"))
        a = backup
        a.write(meeting, ["decisions": .string("X1")], ids: &ids)
        a.write(meeting, ["decisions": .string("X2")], ids: &ids)
        // What the laptop shows before it syncs is what the hub will hold: X2 only, W1 not
        // seen yet (it arrives with the pull).
        #expect(a.shown(meeting).fields["decisions"]?.map(\.value) == [.string("X2")])
        try a.push(to: &hub)
        a.pull(from: hub)
        b.pull(from: hub)
        let values = Set(hub.states[meeting]?.fields["decisions"]?.map(\.value) ?? [])
        #expect(values == [.string("W1"), .string("X2")])
        #expect(hub.states[meeting]?.conflicts.map(\.field) == ["decisions"])
        #expect(a.named == hub.states && b.named == hub.states && a.pending.isEmpty)
    }

    /// The original edits once, the copy twice; the original syncs first.
    @Test("a copied folder and its original keep every write: the copy's two edits stand beside the original's one")
    func copiedFolder() throws {
        var hub = NamingHub()
        var ids = WriteIDSource()
        var original = NamingLaptop(name: "A", clock: 1_000)
        original.write(meeting, ["title": .string("March")], ids: &ids)
        try original.push(to: &hub)
        original.pull(from: hub)
        var copy = original
        original.write(meeting, ["decisions": .string("O1")], ids: &ids)
        var copyIDs = WriteIDSource()
        copy.write(meeting, ["decisions": .string("C1")], ids: &copyIDs)
        copy.write(meeting, ["decisions": .string("C2")], ids: &copyIDs)
        try original.push(to: &hub)
        original.pull(from: hub)
        try copy.push(to: &hub)
        copy.pull(from: hub)
        original.pull(from: hub)
        #expect(Set(hub.states[meeting]?.fields["decisions"]?.map(\.value) ?? []) == [.string("O1"), .string("C2")])
        #expect(original.named == copy.named)
    }

    /// A copy made while a write was pending pushes it again after the original wrote over
    /// it: stored once, and superseded, as the laptop that wrote both meant.
    @Test("a write pushed twice (a copy, a lost answer) is stored once under one dot; a later write on the same laptop still replaces it")
    func pushedTwice() throws {
        var hub = NamingHub()
        var ids = WriteIDSource()
        var a = NamingLaptop(name: "A", clock: 1_000)
        a.write(meeting, ["decisions": .string("X1")], ids: &ids)
        var copy = a
        try a.push(to: &hub, answerLost: true)
        a.write(meeting, ["decisions": .string("X2")], ids: &ids)
        try a.push(to: &hub)
        a.pull(from: hub)
        try copy.push(to: &hub)
        copy.pull(from: hub)
        #expect(hub.states[meeting]?.fields["decisions"]?.map(\.value) == [.string("X2")])
        #expect(hub.fresh == 2)
        #expect(hub.replayed == 2)
        #expect(copy.named == a.named && copy.pending.isEmpty)
    }

    /// The later write reaches the hub without the earlier one (its folder lost it): the
    /// earlier is reserved as seen, and when a copy brings it, it is superseded.
    @Test("a later write names an earlier one the hub never received: reserved, then superseded when it arrives")
    func reservedEarlierWrite() throws {
        var hub = NamingHub()
        var ids = WriteIDSource()
        var a = NamingLaptop(name: "A", clock: 1_000)
        let first = a.write(meeting, ["decisions": .string("X1"), "title": .string("T")], ids: &ids)
        let copy = a
        a.write(meeting, ["decisions": .string("X2")], ids: &ids)
        a.pending.removeFirst()  // this folder pushes only the later write
        try a.push(to: &hub)
        #expect(hub.reserved == 1)
        var late = copy
        try late.push(to: &hub)
        #expect(hub.named[first.id]?.dot == late.dots[first.id])
        late.pull(from: hub)
        // X1 was seen by X2: gone from decisions. The hub reserved X1's dot as seen before
        // X1 arrived, so X1's values are not applied when it does (its title included): only
        // a folder that lost or discarded X1 while keeping X2 gets here.
        #expect(hub.states[meeting]?.fields["decisions"]?.map(\.value) == [.string("X2")])
        #expect(late.pending.isEmpty)
    }

    /// Before 0.8 a laptop restored from a backup and running a slow clock gave its new write
    /// the dot, time and author of its lost one; the new value vanished everywhere.
    @Test("a restored laptop with a slow clock writes another field: both writes kept, times are the hub's")
    func slowClockRestored() throws {
        var hub = NamingHub()
        var ids = WriteIDSource()
        var a = NamingLaptop(name: "A", clock: 5_000)
        var b = NamingLaptop(name: "B", clock: 9_000_000)
        b.write(meeting, ["title": .string("March")], ids: &ids)
        try b.push(to: &hub)
        b.pull(from: hub)
        a.pull(from: hub)
        let backup = a
        a.write(meeting, ["decisions": .string("lost future")], ids: &ids)
        try a.push(to: &hub)
        b.pull(from: hub)
        b.write(meeting, ["title": .string("April")], ids: &ids)
        try b.push(to: &hub)
        a = backup
        a.write(meeting, ["host": .string("iom")], ids: &ids)
        try a.push(to: &hub)
        a.pull(from: hub)
        let state = try #require(hub.states[meeting])
        #expect(state.displayValue(of: "decisions") == .string("lost future"))
        #expect(state.displayValue(of: "host") == .string("iom"))
        #expect(state.displayValue(of: "title") == .string("April"))
        // Every time is the hub's clock; the laptop's (5,000 ms after 1970) orders nothing.
        #expect(state.fields.values.joined().allSatisfy { $0.time > 1_800_000_000_000 })
    }

    /// One member pushing a write timed 2100 froze a record before 0.8: every later write
    /// got a time past the bound and was refused.
    @Test("a far-future laptop clock freezes nothing: the hub's time stamps every write")
    func farFutureClock() throws {
        var hub = NamingHub()
        var ids = WriteIDSource()
        var hostile = NamingLaptop(name: "H", clock: 4_102_444_800_000)
        var honest = NamingLaptop(name: "O", clock: 1_000)
        hostile.write(meeting, ["decisions": .string("frozen?")], ids: &ids)
        try hostile.push(to: &hub)
        honest.pull(from: hub)
        honest.write(meeting, ["decisions": .string("no")], ids: &ids)
        try honest.push(to: &hub)
        #expect(hub.states[meeting]?.fields["decisions"]?.map(\.value) == [.string("no")])
    }

    @Test("a hub restart names new writes under a new actor; nothing already named changes")
    func hubRestart() throws {
        var hub = NamingHub()
        var ids = WriteIDSource()
        var a = NamingLaptop(name: "A", clock: 1_000)
        a.write(meeting, ["decisions": .string("one")], ids: &ids)
        try a.push(to: &hub)
        a.pull(from: hub)
        hub.restart()
        a.write(meeting, ["title": .string("two")], ids: &ids)
        try a.push(to: &hub)
        a.pull(from: hub)
        let actors = Set(try #require(hub.states[meeting]).fields.values.joined().map(\.dot.replica.rawValue))
        #expect(actors == ["hub-1", "hub-2"])
        #expect(a.named == hub.states)
    }
}

/// Random schedules of laptops writing, deleting, resolving, syncing (sometimes cut),
/// backed up and restored, copied, with hub restarts — over the real naming functions.
/// The stores' own schedules (real SQLite files) come with the stores' protocol 5 code.
@Suite("Naming rules over random schedules (in memory)")
struct WriteNamingScheduleTests {
    static let keys = ["m-1", "m-2"]
    static let fields = ["title", "decisions", "host"]
    static let values: [FieldValue] = [.string("A"), .string("B"), .string("C"), .null, .integer(7)]

    struct Entered {
        var key: String
        var fields: [String]
        var id: WriteID
    }

    struct Counts {
        var writes = 0, syncs = 0, cuts = 0, lostAnswers = 0, restores = 0, copies = 0, restarts = 0
        var checkedDisplays = 0
    }

    /// One schedule; returns what went wrong (empty when nothing did).
    static func run(seed: UInt64, counts: inout Counts) throws -> [String] {
        var random = SplitMix64(seed: seed)
        var hub = NamingHub()
        var laptops = (0..<3).map { NamingLaptop(name: "L\($0)", clock: Int64($0) * 86_400_000 * 365) }
        var backups: [[NamingLaptop]] = laptops.map { [$0] }
        var entered: [Entered] = []
        var problems: [String] = []
        for _ in 0..<40 {
            let l = random.next(below: laptops.count)
            let key = keys[random.next(below: keys.count)]
            switch random.next(below: 12) {
            case 0...4:
                var ids = WriteIDSource(using: &random)
                let shown = laptops[l].shown(key)
                var values: [String: FieldValue] = [:]
                switch random.next(below: 6) {
                case 0 where !shown.fields.isEmpty:
                    values = shown.deletionValues
                case 1:
                    if let conflict = shown.conflicts.first {
                        let pick = conflict.candidates[random.next(below: conflict.candidates.count)]
                        values = shown.resolutionValues(field: conflict.field, value: pick.value, deleting: pick.isDeletion)
                    }
                default:
                    for field in fields where random.next(below: 2) == 0 { values[field] = Self.values[random.next(below: Self.values.count)] }
                }
                if values.isEmpty { values["title"] = Self.values[random.next(below: Self.values.count)] }
                let write = laptops[l].write(key, values, ids: &ids)
                entered.append(Entered(key: key, fields: Array(values.keys), id: write.id))
                counts.writes += 1
            case 5, 6:
                // What the laptop shows is what the hub holds once it named the writes, when
                // none of them reached it before.
                let fresh = laptops[l].pending.allSatisfy { hub.named[$0.write.id] == nil }
                let expected = Dictionary(uniqueKeysWithValues: keys.map { k in
                    (k, (hub.states[k] ?? RecordState()).overlaying(laptops[l].pending.filter { $0.key == k }.map(\.write)))
                })
                try laptops[l].push(to: &hub)
                if fresh {
                    for k in keys where candidates(expected[k]!) != candidates(hub.states[k] ?? RecordState()) {
                        problems.append("laptop \(l) showed \(candidates(expected[k]!)) for \(k), the hub holds \(candidates(hub.states[k] ?? RecordState()))")
                    }
                    counts.checkedDisplays += 1
                }
                laptops[l].pull(from: hub)
                counts.syncs += 1
            case 7:
                // Cut: some writes reach the hub, the last answer is lost, nothing is pulled.
                let limit = random.next(below: laptops[l].pending.count + 1)
                try laptops[l].push(to: &hub, limit: limit, answerLost: random.next(below: 2) == 0)
                counts.cuts += 1
            case 8:
                backups[l].append(laptops[l])
            case 9:
                laptops[l] = backups[l][random.next(below: backups[l].count)]
                counts.restores += 1
            case 10 where laptops.count < 5:
                laptops.append(laptops[l])
                backups.append([laptops[l]])
                counts.copies += 1
            default:
                hub.restart()
                counts.restarts += 1
            }
        }
        // Everyone syncs twice: then nothing is pending and every copy holds the hub's states.
        for _ in 0..<2 {
            for l in laptops.indices {
                try laptops[l].push(to: &hub)
                laptops[l].pull(from: hub)
            }
        }
        for (index, laptop) in laptops.enumerated() {
            if !laptop.pending.isEmpty { problems.append("laptop \(index) still holds \(laptop.pending.count) pending writes") }
            if laptop.named != hub.states { problems.append("laptop \(index) differs from the hub") }
        }
        // Every write the hub named is held, or replaced in that field by a write that saw it.
        for write in entered {
            guard let (_, dot) = hub.named[write.id] else { continue }  // lost with its folder before any push
            for field in write.fields {
                let entries = hub.states[write.key]?.fields[field] ?? []
                if entries.contains(where: { $0.dot == dot }) { continue }
                if !entries.contains(where: { hub.saw($0.dot, dot) }) {
                    problems.append("write \(write.id) to \(write.key).\(field) vanished: the field holds \(entries.map(\.dot))")
                }
            }
        }
        // One write, one dot: no dot named twice.
        let dots = hub.named.values.map(\.dot)
        if Set(dots).count != dots.count { problems.append("a dot names two writes") }
        return problems
    }

    /// Each field's candidate values, for comparing what two sides show.
    static func candidates(_ state: RecordState) -> [String: [FieldValue]] {
        state.fields.mapValues { $0.map(\.value).sorted { $0.text < $1.text } }
    }

    @Test("1,000 schedules: nothing entered is lost, no write is held twice, every copy ends equal")
    func schedules() throws {
        var counts = Counts()
        var failures: [String] = []
        for seed in 1...UInt64(1_000) {
            let problems = try Self.run(seed: seed, counts: &counts)
            if !problems.isEmpty { failures.append("seed \(seed): " + problems.prefix(2).joined(separator: "; ")) }
        }
        print("""
            naming schedules: 1000 schedules, \(counts.writes) writes, \(counts.syncs) syncs, \(counts.cuts) cut, \
            \(counts.restores) laptop restores, \(counts.copies) copies, \(counts.restarts) hub restarts, \
            \(counts.checkedDisplays) displays compared with the hub; failing schedules \(failures.count)
            """)
        #expect(failures.count == 0, "\(failures.prefix(5).joined(separator: "\n"))")
    }
}
