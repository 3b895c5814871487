import Foundation
import MufakatCore
import MufakatSync

/// A random schedule of writes, syncs cut at any step, replica restores and copies, hub
/// rewinds and rebuilds, and hostile pushes — then a final round of syncs and the checks.
struct World {
    static let keys = (1...4).map { RecordKey(collection: "positions", id: "gov:ask-\($0)") }
    static let fields = ["statement", "source", "assessedBy"]

    struct Operation {
        var key: RecordKey
        var values: [String: String]
        var dots: Set<Dot>
    }

    struct Counts {
        var schedules = 0, writes = 0, deletes = 0, syncs = 0, cuts = 0, restores = 0, copies = 0
        var rewinds = 0, rebuilds = 0, hostile = 0, incarnations = 0, hubBehind = 0, replayed = 0
        var lost = 0, duplicated = 0, diverged = 0, twins = 0, reusedDots = 0
    }

    var rng: SplitMix64
    var hub: SimHub
    var devices: [SimReplica]
    var deviceSnapshots: [[SimReplica]]
    var hubSnapshots: [SimHub] = []
    var needsReseed = false
    var clock: Int64 = 1_764_400_000_000
    var operations: [Operation] = []
    var operationOfDot: [Dot: Int] = [:]
    /// What each write had seen, by `dot@time`: a dot reused after a restore names another
    /// write, at another time.
    var writeContext: [String: VersionVector] = [:]

    static func writeKey(_ dot: Dot, _ time: Int64) -> String { "\(dot)@\(time)" }

    /// Every write made to each record, by dot and time, for following "saw" transitively.
    var writesOf: [RecordKey: [(dot: Dot, time: Int64)]] = [:]

    mutating func noteWrite(_ dot: Dot, in state: RecordState, key: RecordKey) {
        guard let time = state.fields.values.lazy.flatMap({ $0 }).first(where: { $0.dot == dot })?.time else { return }
        var context = state.context
        context[dot.replica] = dot.counter
        writeContext[Self.writeKey(dot, time)] = context
        writesOf[key, default: []].append((dot, time))
    }

    /// Whether the write `dot@time` on `key` had seen one of `targets`, directly or through
    /// a write it had seen (a replica that took a new id forgets its old id's dots, but not
    /// the writes that had seen them).
    func saw(_ dot: Dot, _ time: Int64, _ targets: Set<Dot>, on key: RecordKey) -> Bool {
        var visited: Set<String> = []
        var queue = [(dot, time)]
        while let (current, currentTime) = queue.popLast() {
            let name = Self.writeKey(current, currentTime)
            guard visited.insert(name).inserted, let context = writeContext[name] else { continue }
            if targets.contains(where: { $0 != current && context.contains($0) }) { return true }
            for write in writesOf[key] ?? [] where write.dot != current && context.contains(write.dot) {
                queue.append((write.dot, write.time))
            }
        }
        return false
    }
    var acknowledged: Set<Int> = []
    var counts = Counts()
    var problems: [String] = []
    var trace: [String] = []

    init(seed: UInt64, without: Set<String> = []) {
        self.without = without
        rng = SplitMix64(seed: seed)
        hub = SimHub(hubID: "hub-\(seed)")
        let count = 2 + Int(seed % 3)
        devices = []
        deviceSnapshots = []
        for index in 0..<count {
            devices.append(SimReplica(name: "d\(index)", replica: ReplicaID.random(using: &rng)))
            deviceSnapshots.append([])
        }
    }

    mutating func random(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    // MARK: events

    /// Event kinds left out, for narrowing a failure down: `hub` (rewinds and rebuilds),
    /// `restore`, `copy`, `cut`.
    var without: Set<String>

    mutating func run(events: Int) throws {
        for _ in 0..<events {
            var roll = random(100)
            if without.contains("hub"), (92..<95).contains(roll) { roll = 50 }
            if without.contains("restore"), (81..<85).contains(roll) { roll = 50 }
            if without.contains("copy"), (85..<88).contains(roll) { roll = 50 }
            let device = random(devices.count)
            trace.append("roll \(roll) d\(device) id \(devices[device].progress.replica) lastPush \(devices[device].progress.lastPush) hubLedger \(hub.ledger[devices[device].progress.replica].map { "\($0.through)/\($0.push)" } ?? "-")")
            switch roll {
            case 0..<40:
                do { try write(device) } catch let error as MufakatError {
                    problems.append("write on device \(device) failed: \(error.message) [\(trace.suffix(25).joined(separator: " | "))]")
                    return
                }
            case 40..<75: try sync(device, cutAt: random(10) < 3 && !without.contains("cut") ? 1 + random(14) : nil)
            case 75..<81: deviceSnapshots[device].append(devices[device])
            case 81..<85:
                guard !deviceSnapshots[device].isEmpty else { continue }
                devices[device] = deviceSnapshots[device][random(deviceSnapshots[device].count)]
                counts.restores += 1
                forgetDead()
            case 85..<88:
                guard devices.count < 6 else { continue }
                devices.append(devices[device])
                deviceSnapshots.append([])
                counts.copies += 1
            case 88..<92: hubSnapshots.append(hub)
            case 92..<94:
                guard !hubSnapshots.isEmpty else { continue }
                hub = hubSnapshots[random(hubSnapshots.count)]
                counts.rewinds += 1
                needsReseed = true
                forgetDead()
            case 94..<95:
                hub = SimHub(hubID: "rebuilt-\(rng.next() % 100_000)")
                counts.rebuilds += 1
                needsReseed = true
                forgetDead()
            default: hostile()
            }
        }
    }

    mutating func write(_ device: Int) throws {
        let key = Self.keys[random(Self.keys.count)]
        clock += Int64(1 + random(5_000))
        if random(10) == 0, let state = devices[device].records[key]?.state, !state.isDeleted {
            let dot = try devices[device].write(key, state.deletionValues, now: clock)
            noteWrite(dot, in: devices[device].records[key]!.state, key: key)
            counts.deletes += 1
            return
        }
        var values: [String: String] = [:]
        for field in Self.fields where random(2) == 0 { values[field] = "v\(operations.count)" }
        if values.isEmpty { values["statement"] = "v\(operations.count)" }
        if devices[device].records[key]?.state.isDeleted == true { return }
        let dot = try devices[device].write(key, values.mapValues { .string($0) }, now: clock)
        trace.append("  write v\(operations.count) \(key.id) \(values.keys.sorted()) as \(dot)")
        noteWrite(dot, in: devices[device].records[key]!.state, key: key)
        operationOfDot[dot] = operations.count
        operations.append(Operation(key: key, values: values, dots: [dot]))
        counts.writes += 1
    }

    /// One `mufakat sync`, as `SyncClient` runs it; `cutAt` cuts it after that many steps.
    mutating func sync(_ device: Int, cutAt: Int?) throws {
        counts.syncs += 1
        var steps = 0
        func step() throws {
            steps += 1
            if let cutAt, steps > cutAt { throw Cut() }
        }
        do {
            for _ in 0..<3 {
              do {
                try step()
                let replica = devices[device].progress.replica
                let verdict = try devices[device].begin(hub.view(for: replica), newID: ReplicaID.random(using: &rng))
                trace.append("  sync d\(device) verdict \(verdict)")
                if case .replicaBehind = verdict {
                    counts.incarnations += 1
                    continue
                }
                if case .hubBehind = verdict { counts.hubBehind += 1 }
                if !devices[device].journal.isEmpty {
                    try pullAll(device, step)
                    try replayJournal(device, step)
                }
                try pushAll(device, step)
                try pullAll(device, step)
                // Other replicas' writes that lost their dot while pulling: written again
                // under this replica's id, sent, and the feed read once more.
                if !devices[device].journal.isEmpty {
                    try replayJournal(device, step)
                    try pushAll(device, step)
                    try pullAll(device, step)
                }
                return
              } catch is Reconnect {
                counts.incarnations += 1
                continue
              }
            }
        } catch is Cut {
            counts.cuts += 1
        } catch is PushRefusal {
            counts.diverged += 1
        } catch let error as MufakatError {
            problems.append("sync of device \(device) failed: \(error.message) [\(trace.suffix(12).joined(separator: " | "))]")
        }
    }

    /// `ReplicaStore.replayJournal`, with the checks' bookkeeping.
    mutating func replayJournal(_ device: Int, _ step: () throws -> Void) throws {
        try step()
        if ProcessInfo.processInfo.environment["MUFAKAT_SEED"] != nil {
            for entry in devices[device].journal {
                trace.append("  journal \(entry.key.id): \(entry.entries.flatMap { field, list in list.map { "\(field)=\($0.value) \($0.dot)@\($0.time)" } }) now \(devices[device].records[entry.key]?.state.fields.mapValues { $0.map { "\($0.value) \($0.dot)@\($0.time)" } } ?? [:]) ctx \(devices[device].records[entry.key]?.state.context.description ?? "-")")
            }
        }
        let writes = try devices[device].replay()
        trace.append("  replayed on d\(device): \(writes.map { "\($0.key.id) \($0.oldDot)->\($0.newDot.map(String.init(describing:)) ?? "-") \($0.fields)" })")
        for write in writes {
            if let newer = write.supersededBy, let state = devices[device].records[write.key]?.state,
                let time = state.fields.values.lazy.flatMap({ $0 }).first(where: { $0.dot == newer })?.time
            {
                // A field this write set was written anew on this replica since:
                // that later write replaces it, as the person meant.
                writeContext[Self.writeKey(newer, time), default: VersionVector()][write.oldDot.replica] =
                    max(writeContext[Self.writeKey(newer, time)]?[write.oldDot.replica] ?? 0, write.oldDot.counter)
            }
            guard let newDot = write.newDot else { continue }
            counts.replayed += 1
            noteWrite(newDot, in: devices[device].records[write.key]!.state, key: write.key)
            // Written again, it replaces what it replaced when first made.
            if let time = devices[device].records[write.key]!.state.fields.values.lazy.flatMap({ $0 })
                .first(where: { $0.dot == newDot })?.time,
                let original = writeContext[Self.writeKey(write.oldDot, time)]
            {
                writeContext[Self.writeKey(newDot, time)]?.merge(original)
            }
            if let operation = operationOfDot[write.oldDot] {
                operationOfDot[newDot] = operation
                operations[operation].dots.insert(newDot)
            }
        }
    }

    mutating func pushAll(_ device: Int, _ step: () throws -> Void) throws {
        // Pending, in local-sequence order.
        while true {
            let replica = devices[device]
            let pending = replica.records.values.filter { $0.seq > replica.progress.pushedThrough }.sorted { $0.seq < $1.seq }.prefix(3)
            guard let last = pending.last else { break }
            try push(device, pending.map { ReplicatedRecord(collection: $0.collection, id: $0.id, state: $0.state) }, through: last.seq, step)
        }
        let keys = devices[device].resend.sorted()
        for start in stride(from: 0, to: keys.count, by: 3) {
            let batch = keys[start..<min(keys.count, start + 3)].compactMap { key in
                devices[device].records[key].map { ReplicatedRecord(collection: key.collection, id: key.id, state: $0.state) }
            }
            guard !batch.isEmpty else { continue }
            try push(device, batch, through: devices[device].progress.pushedThrough, step)
        }
        if hub.reseed && devices[device].relayedHub != hub.hubID {
            let all = devices[device].records.values.sorted { $0.key < $1.key }
            for start in stride(from: 0, to: all.count, by: 3) {
                let batch = all[start..<min(all.count, start + 3)].map { ReplicatedRecord(collection: $0.collection, id: $0.id, state: $0.state) }
                try push(device, batch, through: devices[device].progress.pushedThrough, step)
            }
            devices[device].relayedHub = hub.hubID
        }
    }

    mutating func push(_ device: Int, _ batch: [ReplicatedRecord], through: UInt64, _ step: () throws -> Void) throws {
        try step()
        let progress = devices[device].progress
        let header = PushHeader(
            through: through, id: PushID.random(using: &rng), after: progress.lastPush, counter: progress.counter)
        devices[device].progress.inflight = .init(id: header.id, through: through)
        try step()
        let results = try hub.push(batch, header: header, from: progress.replica).get()
        var refused: Set<RecordKey> = []
        var corruption = false
        var reused: [RecordKey: Set<Dot>] = [:]
        for (record, result) in zip(batch, results) {
            if ProcessInfo.processInfo.environment["MUFAKAT_SEED"] != nil {
                let verdict: String
                switch result.admission {
                case .store: verdict = "stored"
                case .unchanged: verdict = "unchanged"
                case .reject(let rejection): verdict = "refused \(rejection.code.rawValue)"
                }
                trace.append("    push d\(device) \(record.id) \(verdict): \(record.canonicalJSON)")
            }
            switch result.admission {
            case .reject(let rejection):
                refused.insert(result.key)
                if rejection.code == .corruption { corruption = true }
                if rejection.code == .reusedDot {
                    reused[result.key] = Set(rejection.dots)
                    counts.reusedDots += 1
                }
            case .store, .unchanged:
                for entries in record.state.fields.values {
                    for entry in entries {
                        if let operation = operationOfDot[entry.dot], entry.value == .string("v\(operation)") {
                            acknowledged.insert(operation)
                        }
                    }
                }
            }
        }
        try step()
        try devices[device].acknowledge(batch, header: header, refused: refused, corruption: corruption, reused: reused)
    }

    mutating func pullAll(_ device: Int, _ step: () throws -> Void) throws {
        while true {
            let replica = devices[device].progress
            let batch = hub.changes(since: replica.checkpoint, limit: 3, for: replica.replica)
            try step()
            if ProcessInfo.processInfo.environment["MUFAKAT_SEED"] != nil {
                for record in batch.records {
                    trace.append("    pull d\(device) \(record.id) local \(devices[device].records[RecordKey(collection: record.collection, id: record.id)].map { ReplicatedRecord(collection: $0.collection, id: $0.id, state: $0.state).canonicalJSON } ?? "-") hub \(record.canonicalJSON)")
                }
            }
            guard try devices[device].applyPulled(batch.records, through: batch.through, newID: ReplicaID.random(using: &rng)) else {
                throw Reconnect()
            }
            if !batch.more { break }
        }
    }

    /// A token holder pushing crafted states: each must be refused and change nothing.
    mutating func hostile() {
        let keys = hub.records.keys.sorted()
        guard !keys.isEmpty else { return }
        let key = keys[random(keys.count)]
        let stored = hub.records[key]!
        counts.hostile += 1
        let pusher = ReplicaID.random(using: &rng)
        let rules = PushRules(relay: false)
        func expect(_ state: RecordState, _ code: RecordRejection.Code, counter: UInt64 = 0, _ what: String) {
            let record = ReplicatedRecord(collection: key.collection, id: key.id, state: state)
            guard case .reject(let rejection) = rules.admit(record, stored: stored.state, pusher: pusher, counter: counter),
                rejection.code == code
            else {
                problems.append("hostile push not refused with \(code): \(what)")
                return
            }
        }
        // The record's own context and no fields.
        if let empty = try? RecordState(context: stored.state.context, fields: [:]) {
            expect(empty, .invalid, "context only")
        }
        // Every field but one left out.
        if stored.state.fields.count > 1, let first = stored.state.fields.keys.sorted().first,
            let partial = try? RecordState(context: stored.state.context, fields: [first: stored.state.fields[first]!])
        {
            expect(partial, .removesEntry, "fields left out")
        }
        // Its own counter far beyond what it declared.
        var beyond = stored.state
        try? beyond.write(["statement": .string("x")], dot: Dot(replica: pusher, counter: UInt64.max), now: clock, author: "x")
        expect(beyond, .counterBeyond, counter: 5, "counter 2^64 − 1")
        // A write of another replica the hub has not seen.
        var forged = stored.state
        try? forged.write(["statement": .string("x")], dot: Dot(replica: ReplicaID.random(using: &rng), counter: 1), now: clock, author: "x")
        expect(forged, .forgedDot, "forged dot")
    }

    // MARK: checks

    /// Whether the operation's effect is in `state`: each field it wrote holds its value, or
    /// an entry written by someone who had seen it.
    func isAlive(_ operation: Operation, in state: RecordState?) -> Bool {
        guard let state else { return false }
        for (field, value) in operation.values {
            let entries = state.fields[field] ?? []
            let present = entries.contains { entry in
                entry.value == .string(value)
                    || saw(entry.dot, entry.time, operation.dots, on: operation.key)
            }
            if !present { return false }
        }
        return true
    }

    func isAliveAnywhere(_ operation: Operation) -> Bool {
        if isAlive(operation, in: hub.records[operation.key]?.state) { return true }
        for device in devices {
            if isAlive(operation, in: device.records[operation.key]?.state) { return true }
            for entry in device.journal where entry.key == operation.key {
                if operation.values.allSatisfy({ assignment in entry.entries[assignment.key]?.contains { $0.value == .string(assignment.value) } == true || isAlive(
                    Operation(key: operation.key, values: [assignment.key: assignment.value], dots: operation.dots),
                    in: device.records[operation.key]?.state ?? entry.base) }) { return true }
            }
        }
        return false
    }

    /// After a failure, acknowledged writes that exist nowhere any more (a double failure:
    /// the only holders were all rolled back) are no longer owed.
    mutating func forgetDead() {
        acknowledged = acknowledged.filter { isAliveAnywhere(operations[$0]) }
    }

    /// The final round, as the operator's procedure says: re-seed mode if the hub was
    /// rewound or rebuilt, every replica syncs, then normal mode again.
    mutating func finish() throws {
        hub.reseed = needsReseed
        for _ in 0..<3 {
            for device in devices.indices { try sync(device, cutAt: nil) }
        }
        hub.reseed = false
        for device in devices.indices { try sync(device, cutAt: nil) }
        let hubStates = hub.digest
        for (index, device) in devices.enumerated() where device.states != hubStates {
            problems.append("device \(index) differs from the hub")
            if ProcessInfo.processInfo.environment["MUFAKAT_SEED"] != nil {
                for key in Set(device.states.keys).union(hubStates.keys) where device.states[key] != hubStates[key] {
                    trace.append("DIFF d\(index) \(key.id) seq \(device.records[key]?.seq ?? 0) resend \(device.resend.contains(key)) pushedThrough \(device.progress.pushedThrough)\n  local \(device.states[key].map { ReplicatedRecord(collection: key.collection, id: key.id, state: $0).canonicalJSON } ?? "-")\n  hub   \(hubStates[key].map { ReplicatedRecord(collection: key.collection, id: key.id, state: $0).canonicalJSON } ?? "-")")
                }
            }
        }
        for operation in acknowledged where !isAlive(operations[operation], in: hubStates[operations[operation].key]) {
            if ProcessInfo.processInfo.environment["MUFAKAT_SEED"] != nil {
                let key = operations[operation].key
                trace.append("LOST v\(operation) dots \(operations[operation].dots) hub \(hubStates[key].map { ReplicatedRecord(collection: key.collection, id: key.id, state: $0).canonicalJSON } ?? "-")")
            }
            counts.lost += 1
            problems.append("acknowledged write v\(operation) (\(operations[operation].values)) lost on the hub")
        }
        for (key, state) in hubStates {
            // A delete writes each field's value again under its dot: not a second write.
            let deletions = state.deletionDots
            for (field, entries) in state.fields {
                // One write under two dots: a write re-stamped by a restored copy while
                // another replica relays the original. Same value, time and author: it shows
                // once, never as a conflict, and goes at the next write of the field.
                var seen: [String: Set<Int64>] = [:]
                for entry in entries where !deletions.contains(entry.dot) {
                    guard case .string(let value) = entry.value else { continue }
                    if seen[value] != nil {
                        if seen[value]!.contains(entry.time) { counts.twins += 1 } else {
                            counts.duplicated += 1
                            problems.append("\(key.id) \(field) holds one write twice at different times: \(value)")
                        }
                    }
                    seen[value, default: []].insert(entry.time)
                }
                if let conflict = state.conflicts.first(where: { conflict in
                    let values = conflict.candidates.filter { !$0.isDeletion }.map(\.value).filter { !$0.isNull }
                    return Set(values).count < values.count
                }) {
                    problems.append("\(key.id) shows one value twice as a conflict: \(conflict.field) \(conflict.candidates.map { "\($0.value)\($0.isDeletion ? " (deletion)" : "") \($0.dot)@\($0.time)" })")
                }
            }
        }
    }
}
