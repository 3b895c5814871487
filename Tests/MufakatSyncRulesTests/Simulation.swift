import Foundation
import MufakatCore
import MufakatSync

/// A small, fast, seeded generator: schedules are reproducible from their seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A replica as the stores keep it, in memory: every decision goes through MufakatSync,
/// each step is one transaction, so a cut between two steps is a crash there.
struct SimReplica {
    var progress: ReplicaProgress
    var records: [RecordKey: LocalRecord] = [:]
    var resend: Set<RecordKey> = []
    var journal: [JournalEntry] = []
    var relayedHub = ""
    var name: String

    init(name: String, replica: ReplicaID) {
        self.name = name
        progress = ReplicaProgress(replica: replica)
    }
}

struct SimHub {
    var hubID: String
    var seq: UInt64 = 0
    var records: [RecordKey: (state: RecordState, seq: UInt64, origin: ReplicaID?)] = [:]
    var ledger: [ReplicaID: LedgerEntry] = [:]
    /// The dot index: the record each dot was first stored in.
    var owners: [Dot: RecordKey] = [:]
    var reseed = false

    init(hubID: String) { self.hubID = hubID }

    func view(for replica: ReplicaID) -> HubView {
        HubView(hubID: hubID, sequence: seq, ledger: ledger[replica] ?? .empty)
    }

    /// `HubStore.applyPush`.
    mutating func push(_ records: [ReplicatedRecord], header: PushHeader, from replica: ReplicaID)
        -> Result<[(key: RecordKey, admission: Admission)], PushRefusal>
    {
        var entry = ledger[replica] ?? .empty
        if let refusal = entry.refusal(of: header) { return .failure(refusal) }
        let rules = PushRules(relay: reseed)
        // What the hub knew each replica had written before this push (HubStore reads the
        // ledger before the push's relays raise it).
        let knownCounters = ledger.mapValues(\.counter)
        var results: [(RecordKey, Admission)] = []
        for record in records {
            let key = RecordKey(collection: record.collection, id: record.id)
            let stored = self.records[key]?.state
            let admission = rules.admit(record, stored: stored, pusher: replica, counter: header.counter) { owners[$0] }
            results.append((key, admission))
            if case .store(let merged) = admission {
                for dot in merged.dots(notHeldBy: stored) where owners[dot] == nil {
                    guard !reseed || dot.replica == replica || dot.counter <= knownCounters[dot.replica] ?? 0 else { continue }
                    owners[dot] = key
                }
                seq += 1
                self.records[key] = (merged, seq, merged == record.state ? replica : nil)
                if reseed {
                    for (other, counter) in record.state.context.counters where other != replica {
                        var otherEntry = ledger[other] ?? .empty
                        otherEntry.counter = max(otherEntry.counter, counter)
                        ledger[other] = otherEntry
                    }
                }
            }
        }
        entry = entry.acknowledging(header)
        ledger[replica] = entry
        return .success(results)
    }

    /// `HubStore.changes`.
    mutating func changes(since: UInt64, limit: Int, for replica: ReplicaID) -> (records: [ReplicatedRecord], through: UInt64, more: Bool) {
        let sorted = records.filter { $0.value.seq > since }.sorted { $0.value.seq < $1.value.seq }
        var out: [ReplicatedRecord] = []
        var through = since
        var taken = 0
        for (key, value) in sorted {
            if taken == limit { break }
            taken += 1
            through = value.seq
            if value.origin == replica { continue }
            out.append(ReplicatedRecord(collection: key.collection, id: key.id, state: value.state))
        }
        let more = sorted.contains { $0.value.seq > through }
        var entry = ledger[replica] ?? .empty
        entry.served = max(entry.served, through)
        ledger[replica] = entry
        return (out, through, more)
    }

    var digest: [RecordKey: RecordState] { records.mapValues(\.state) }
}

/// Thrown where a schedule cuts a sync: the steps before it are stored, the rest is not.
struct Cut: Error {}

/// The replica took a new id mid-session: the sync goes on in a new session.
struct Reconnect: Error {}

extension SimReplica {
    var states: [RecordKey: RecordState] { records.mapValues(\.state) }

    /// `ReplicaStore.put` (one write operation, one dot).
    mutating func write(_ key: RecordKey, _ values: [String: FieldValue], now: Int64) throws -> Dot {
        precondition(progress.counter < Counters.maxCounter)
        var record = records[key] ?? LocalRecord(collection: key.collection, id: key.id, state: RecordState())
        progress.counter = max(progress.counter, record.state.context[progress.replica]) + 1
        let dot = Dot(replica: progress.replica, counter: progress.counter)
        try record.state.write(values, dot: dot, now: now, author: name)
        record.seq = dot.counter
        records[key] = record
        return dot
    }

    /// `ReplicaStore.beginSync`; returns whether the session must end (a new id).
    mutating func begin(_ view: HubView, newID: ReplicaID) throws -> WelcomeVerdict {
        let verdict = progress.evaluate(view)
        switch verdict {
        case .consistent: break
        case .acknowledgementLost(let inflight):
            progress.pushHistory = progress.history(after: inflight.id)
            progress.lastPush = inflight.id
        case .hubBehind:
            progress.pushedThrough = 0
            progress.checkpoint = 0
            progress.pushHistory = progress.historyKeepingInflight(after: view.ledger.push)
            progress.lastPush = view.ledger.push
            relayedHub = ""
            for key in records.keys { records[key]!.acked = 0 }
        case .replicaBehind:
            try incarnate(newID, sharedThrough: progress.sharedThrough(view.ledger))
        }
        progress.inflight = nil
        progress.hubID = view.hubID
        return verdict
    }

    /// `ReplicaStore.incarnate`.
    mutating func incarnate(_ newID: ReplicaID, sharedThrough: UInt64) throws {
        let old = progress.replica
        for (key, record) in records where record.seq > 0 {
            guard var entry = try Incarnation.extract(record, from: old) else { continue }
            entry.acked = min(entry.acked, sharedThrough)
            if let waiting = journal.first(where: { $0.key == key }) {
                entry = Incarnation.mergeJournal(waiting: waiting, taken: entry)
            }
            journal.removeAll { $0.key == key }
            journal.append(entry)
            if entry.base.fields.isEmpty { records[key] = nil } else { records[key]!.state = entry.base }
        }
        for key in records.keys {
            records[key]!.seq = 0
            records[key]!.acked = 0
        }
        resend = []
        relayedHub = ""
        let hubID = progress.hubID
        progress = ReplicaProgress(replica: newID)
        // (a new progress: dotReused starts false)
        progress.hubID = hubID
    }

    /// `ReplicaStore.replayJournal`.
    mutating func replay() throws -> [ReplayedWrite] {
        let result = try Incarnation.replay(journal, onto: states, as: progress.replica, after: progress.counter)
        var seqs: [RecordKey: UInt64] = [:]
        for write in result.writes {
            if let dot = write.newDot { seqs[write.key] = max(seqs[write.key] ?? 0, dot.counter) }
        }
        for (key, state) in result.states {
            var record = records[key] ?? LocalRecord(collection: key.collection, id: key.id, state: state)
            record.state = state
            // A record the replay only cleaned keeps its own pending write, if any.
            record.seq = seqs[key] ?? record.seq
            records[key] = record
        }
        progress.counter = result.counter
        journal = []
        return result.writes
    }

    /// `ReplicaStore.applyPulled`; `false` when the replica took a new id instead.
    mutating func applyPulled(_ pulled: [ReplicatedRecord], through: UInt64, newID: ReplicaID) throws -> Bool {
        for record in pulled {
            let key = RecordKey(collection: record.collection, id: record.id)
            if var local = records[key] {
                let merged: RecordState
                let journaled = journal.first { $0.key == key }?.entries ?? [:]
                switch try Incarnation.mergePulled(local.state, record.state, key: key, own: progress.replica, journaled: journaled) {
                case .ownDotReused:
                    try incarnate(newID, sharedThrough: 0)
                    return false
                case .merged(let state, let orphans):
                    merged = state
                    if let orphans {
                        if let index = journal.firstIndex(where: { $0.key == key }) {
                            // What the record had seen stays what it had seen when the
                            // journal was taken: the pulled context is not that.
                            journal[index].add(orphans.entries)
                            journal[index].acked = 0
                        } else {
                            journal.append(orphans)
                        }
                    }
                }
                if merged != record.state && local.seq <= progress.pushedThrough { resend.insert(key) }
                local.state = merged
                records[key] = local
            } else {
                records[key] = LocalRecord(collection: key.collection, id: key.id, state: record.state)
            }
        }
        progress.checkpoint = max(progress.checkpoint, through)
        return true
    }

    /// `ReplicaStore.acknowledgePush`.
    mutating func acknowledge(
        _ batch: [ReplicatedRecord], header: PushHeader, refused: Set<RecordKey>, corruption: Bool, reused: [RecordKey: Set<Dot>] = [:]
    ) throws {
        if corruption { progress.dotReused = true }
        if reused.values.contains(where: { $0.contains { $0.replica == progress.replica } }) { progress.dotReused = true }
        for (key, dots) in reused.sorted(by: { $0.key < $1.key }) where !progress.dotReused {
            guard let local = records[key],
                let (kept, taken) = try Incarnation.takeReused(local.state, dots: dots, key: key, own: progress.replica)
            else { continue }
            if kept.fields.isEmpty { records[key] = nil } else { records[key]!.state = kept }
            if let index = journal.firstIndex(where: { $0.key == key }) {
                journal[index].add(taken.entries)
                journal[index].acked = 0
            } else {
                journal.append(taken)
            }
        }
        progress.pushedThrough = max(progress.pushedThrough, header.through)
        progress.pushHistory = progress.history(after: header.id)
        progress.lastPush = header.id
        progress.inflight = nil
        for record in batch {
            let key = RecordKey(collection: record.collection, id: record.id)
            if refused.contains(key) {
                resend.insert(key)
            } else {
                resend.remove(key)
                if var local = records[key] {
                    local.acked = max(local.acked, record.state.context[progress.replica])
                    records[key] = local
                }
            }
        }
    }
}
