import MufakatCore

/// A record as a replica holds it, with what the sync rules need beside the state.
public struct LocalRecord: Hashable, Sendable {
    public var collection: String
    public var id: String
    public var state: RecordState
    /// The local sequence (the counter) of the last local write under the current id; 0
    /// for records only received.
    public var seq: UInt64
    /// The counter of the current id through which the hub acknowledged this record's
    /// writes (from accepted pushes only).
    public var acked: UInt64

    public init(collection: String, id: String, state: RecordState, seq: UInt64 = 0, acked: UInt64 = 0) {
        self.collection = collection
        self.id = id
        self.state = state
        self.seq = seq
        self.acked = acked
    }

    public var key: RecordKey { RecordKey(collection: collection, id: id) }
}

public struct RecordKey: Hashable, Sendable, Comparable {
    public var collection: String
    public var id: String
    public init(collection: String, id: String) {
        self.collection = collection
        self.id = id
    }
    public static func < (lhs: RecordKey, rhs: RecordKey) -> Bool {
        ReplicatedRecord.precedes((lhs.collection, lhs.id), (rhs.collection, rhs.id))
    }
}

/// One record's writes of a replica id it stops using, taken out of the record when the
/// replica becomes a new incarnation, and written again under the new id where the hub does
/// not hold them.
public struct JournalEntry: Hashable, Sendable {
    public var key: RecordKey
    /// The record without those writes: everything received from others.
    public var base: RecordState
    /// Field → the entries waiting to be written again, sorted by dot: the old id's (a
    /// replica's own later write replaced its earlier ones, so one per old id) and other
    /// replicas' writes taken for a reused dot. Writes that never saw each other wait side
    /// by side, as they stood in the record.
    public var entries: [String: [FieldEntry]]
    /// What the record had seen when the entries were taken (`base` may forget the old id,
    /// so that the hub's copies of its writes come back).
    public var seen: VersionVector
    /// The old id's counter through which the hub had acknowledged this record's writes, as
    /// this copy knew it.
    public var acked: UInt64

    public init(key: RecordKey, base: RecordState, entries: [String: [FieldEntry]], seen: VersionVector, acked: UInt64 = 0) {
        self.key = key
        self.base = base
        self.entries = entries.compactMapValues { list in
            list.isEmpty ? nil : Dictionary(list.map { ($0.dot, $0) }, uniquingKeysWith: { first, _ in first }).values.sorted { $0.dot < $1.dot }
        }
        self.seen = seen
        self.acked = acked
    }

    /// Adds `more` beside what waits already (an entry already waiting under the same dot
    /// stays as it is).
    public mutating func add(_ more: [String: [FieldEntry]]) {
        for (field, list) in more {
            var present = entries[field] ?? []
            for entry in list where !present.contains(where: { $0.dot == entry.dot }) { present.append(entry) }
            entries[field] = present.sorted { $0.dot < $1.dot }
        }
    }

    /// The waiting entries as a state whose context holds them all and `seen` (how the
    /// store keeps them beside `seen`).
    public var entriesState: RecordState {
        get throws(MufakatError) {
            var context = seen
            for entry in entries.values.joined() where !context.contains(entry.dot) {
                context[entry.dot.replica] = max(context[entry.dot.replica], entry.dot.counter)
            }
            return try RecordState(context: context, fields: entries)
        }
    }

    /// Whether the record had seen the write `dot` when the journal was taken: it then stood
    /// beside the taken writes, or was replaced by them.
    func hadSeen(_ dot: Dot) -> Bool { seen.contains(dot) }
}

/// A write made again under a new replica id.
public struct ReplayedWrite: Hashable, Sendable {
    public var key: RecordKey
    public var oldDot: Dot
    /// `nil` when nothing was written again: the hub held it, or every field it wrote was
    /// written anew here since (`supersededBy`).
    public var newDot: Dot?
    public var fields: [String]
    /// A field's later write on this replica that replaced this one, if any.
    public var supersededBy: Dot?
}

/// Taking a new replica id without losing or reusing a write.
///
/// A replica that finds itself behind its own id — restored from a backup, rolled back by a
/// power cut, or a copy of a folder whose twin synced first (perhaps to a hub that was itself
/// rewound) — may hold writes whose dots the hub knows as other writes. It stops using that
/// id: ``extract(_:from:)`` takes every entry of the old id out of each record it wrote (the
/// record keeps what others wrote), the replica pulls everything from the hub, and
/// ``replay(_:onto:as:after:)`` writes each taken write again as a new write of the new id,
/// values, times and authors kept — unless the hub holds that very write already:
///
/// - the hub's state has not seen the old dot: the write is new to it, written again;
/// - the hub holds entries under the old dot, all with this write's time and author and,
///   where both hold a field, its contents: it is the same write (perhaps partly overwritten
///   since, here or there), not written twice;
/// - the hub has seen the old dot and holds none of it: a write the hub had acknowledged was
///   overwritten by someone who saw it, and is not written again; one it had not is written
///   again — the hub's context may name that dot only because a twin used it elsewhere, and
///   a value shown once more as a conflict is better than a value lost;
/// - the hub holds other contents under the old dot: the dot was reused by a twin copy, the
///   write is written again.
///
/// A write written again keeps its value, time and author, supersedes exactly what it
/// superseded when it was made, and stands beside anything written since that never saw it
/// (a conflict, shown). A field already holding the same value, time and author is that
/// write, written again before by an earlier incarnation (a copy restored twice).
public enum Incarnation {
    /// The record without `old`'s entries, and those entries; `nil` when it has none.
    ///
    /// A replica behind its id takes every entry of the old id and forgets what it had seen
    /// of it (`forgetting`), so that the hub's copies of those writes come back when it
    /// pulls. A replica that only ran out of counters is not behind: it takes only the
    /// writes the hub has not acknowledged (above `record.acked`) and keeps the rest.
    public static func extract(
        _ record: LocalRecord, from old: ReplicaID, forgetting: Bool = true
    ) throws(MufakatError) -> JournalEntry? {
        var taken: [String: [FieldEntry]] = [:]
        var fields: [String: [FieldEntry]] = [:]
        for (name, entries) in record.state.fields {
            var kept: [FieldEntry] = []
            for entry in entries {
                if entry.dot.replica == old && (forgetting || entry.dot.counter > record.acked) {
                    taken[name, default: []].append(entry)
                } else {
                    kept.append(entry)
                }
            }
            if !kept.isEmpty { fields[name] = kept }
        }
        let keep = forgetting ? 0 : record.acked
        guard !taken.isEmpty || record.state.context[old] > keep else { return nil }
        var context = record.state.context
        context[old] = min(context[old], keep)
        let base = try RecordState(context: context, fields: fields)
        return JournalEntry(key: record.key, base: base, entries: taken, seen: record.state.context, acked: record.acked)
    }

    /// One journal entry for a record that already had one waiting when the replica took
    /// another new id (a sync cut before the journal was written again, or other replicas'
    /// writes taken while pulling): the writes waiting there stay, beside the ones taken now
    /// — none of them saw the others, so each is written again and they stand as a conflict
    /// where they share a field.
    ///
    /// What the record had seen is both contexts together, and the acknowledged counter is
    /// the lower of the two (fewer writes count as overwritten). The `base` is the record as
    /// it stays meanwhile (`taken`'s).
    public static func mergeJournal(waiting: JournalEntry, taken: JournalEntry) -> JournalEntry {
        var merged = JournalEntry(
            key: taken.key, base: taken.base, entries: waiting.entries, seen: waiting.seen.merging(taken.seen),
            acked: min(waiting.acked, taken.acked))
        merged.add(taken.entries)
        return merged
    }

    /// Writes the journal again as writes of `replica`, counters from `counter + 1`, in the
    /// order of the old counters, onto the current states (the bases merged with whatever
    /// was pulled since). Returns the new states of the records it wrote, the last counter
    /// used and what it wrote.
    ///
    /// A write is skipped when the hub holds it (see the type's rules); a field is skipped
    /// when it holds an entry of `replica` itself (written after the journal was taken:
    /// newer than anything in it).
    ///
    /// `pulled` says the current states hold what the hub holds; without it (a replica that
    /// only ran out of counters, replaying at once, offline) every write is written again.
    public static func replay(
        _ journal: [JournalEntry], onto current: [RecordKey: RecordState], as replica: ReplicaID, after counter: UInt64,
        pulled: Bool = true
    ) throws(MufakatError) -> (states: [RecordKey: RecordState], counter: UInt64, writes: [ReplayedWrite]) {
        struct Operation {
            var oldDot: Dot
            var key: RecordKey
            var entries: [String: FieldEntry]
        }
        var operations: [Operation] = []
        var bases: [RecordKey: JournalEntry] = [:]
        for entry in journal {
            bases[entry.key] = entry
            var byDot: [Dot: [String: FieldEntry]] = [:]
            for (field, list) in entry.entries {
                for fieldEntry in list { byDot[fieldEntry.dot, default: [:]][field] = fieldEntry }
            }
            for (dot, entries) in byDot { operations.append(Operation(oldDot: dot, key: entry.key, entries: entries)) }
        }
        operations.sort { ($0.oldDot.counter, $0.key) < ($1.oldDot.counter, $1.key) }

        // Old dots under which the hub holds another write (a twin copy used them): what the
        // hub holds under them was never seen here.
        var reused: Set<Dot> = []
        for operation in operations where pulled {
            guard let state = current[operation.key], state.context.contains(operation.oldDot) else { continue }
            if !isHeld(operation.oldDot, operation.entries, in: state) { reused.insert(operation.oldDot) }
        }
        // One write belongs to one record and stamps all its fields alike: an entry under an
        // old dot that the journal holds as this copy's own write in another record, or with
        // another time or author, is another write under that dot (a twin's). The record's
        // context may claim it only because of that twin, so it was never seen here.
        var ownWrites: [Dot: (key: RecordKey, time: Int64, author: String)] = [:]
        for operation in operations {
            guard let sample = operation.entries.values.min(by: FieldEntry.stampPrecedes) else { continue }
            ownWrites[operation.oldDot] = (operation.key, sample.time, sample.author)
        }
        for entry in journal where pulled {
            guard let state = current[entry.key] else { continue }
            for entries in state.fields.values {
                for present in entries {
                    guard let own = ownWrites[present.dot] else { continue }
                    if own.key != entry.key || own.time != present.time || !own.author.utf8Equal(present.author) {
                        reused.insert(present.dot)
                    }
                }
            }
        }
        var states: [RecordKey: RecordState] = [:]
        if pulled {
            for entry in journal {
                guard let state = current[entry.key], let cleaned = try withoutResurrected(state, entry, reused: reused),
                    cleaned != state
                else { continue }
                states[entry.key] = cleaned
            }
        }
        var next = counter
        var writes: [ReplayedWrite] = []
        // Dots this replay writes: another waiting write of the same field stands beside
        // them, it is not replaced by them.
        var written: Set<Dot> = []
        for operation in operations {
            guard let journalEntry = bases[operation.key] else { continue }
            let state = states[operation.key] ?? current[operation.key] ?? journalEntry.base
            // The hub has seen the old dot and holds nothing under it: the write was
            // overwritten, field by field, by writes that saw it — and those, by the time
            // rule, are all later than it. A field still holding only older entries was not
            // overwritten by it: what the hub saw under that dot was a twin's write.
            var overwritten = false
            if pulled, state.context.contains(operation.oldDot) {
                let held = state.fields.values.contains { $0.contains { $0.dot == operation.oldDot } }
                if held {
                    if isHeld(operation.oldDot, operation.entries, in: state) { continue }
                } else {
                    overwritten = true
                }
            }
            // A write the hub acknowledged (as this copy knew) and no longer holds was
            // overwritten there: nothing to bring back.
            if overwritten, operation.oldDot.counter <= journalEntry.acked { continue }
            var toWrite: [String: FieldEntry] = [:]
            var supersededBy: Dot?
            for (field, entry) in operation.entries {
                let present = state.fields[field] ?? []
                if let newer = present.first(where: { $0.dot.replica == replica && !written.contains($0.dot) }) {
                    supersededBy = newer.dot
                    continue
                }
                // Written again already, under an earlier new id (this copy was restored
                // from a backup older than that): same value, time and author.
                if present.contains(where: { $0.value == entry.value && $0.time == entry.time && $0.author.utf8Equal(entry.author) }) {
                    continue
                }
                toWrite[field] = entry
            }
            guard !toWrite.isEmpty else {
                if let supersededBy {
                    writes.append(ReplayedWrite(
                        key: operation.key, oldDot: operation.oldDot, newDot: nil, fields: [], supersededBy: supersededBy))
                }
                continue
            }
            guard next < Counters.maxCounter else {
                throw MufakatError(.invalid, "replica \(replica) has no counters left to re-stamp writes with")
            }
            next += 1
            let dot = Dot(replica: replica, counter: next)
            var fields = state.fields
            for (field, entry) in toWrite {
                // Keep what the write did not supersede when it was made: entries it stood
                // beside then, and entries that arrived since — among them any entry later
                // than it (a write replaces only older entries, §6.2: the record may claim a
                // later entry's dot only because a twin copy used that dot elsewhere).
                let kept = (fields[field] ?? []).filter { present in
                    journalEntry.base.fields[field]?.contains(present) == true || reused.contains(present.dot)
                        || !journalEntry.hadSeen(present.dot) || present.time > entry.time
                }
                fields[field] = kept + [FieldEntry(dot: dot, value: entry.value, time: entry.time, author: entry.author)]
            }
            var context = state.context
            context[replica] = next
            states[operation.key] = try RecordState(context: context, fields: fields)
            written.insert(dot)
            writes.append(ReplayedWrite(
                key: operation.key, oldDot: operation.oldDot, newDot: dot, fields: toWrite.keys.sorted(),
                supersededBy: supersededBy))
        }
        return (states, next, writes)
    }

    /// `state` without the entries that came back from the hub only because the journal's
    /// base forgot the old id: entries under a dot the record had seen, did not hold in that
    /// field, and held a later entry in that field instead — overwritten here by a write
    /// that saw them (a write is later than what it replaces, §6.2). A twin's write under a
    /// reused dot that no entry here is later than stays, and so does any entry under a dot
    /// the journal holds another write under (`reused`), and any entry whose later write here
    /// was this copy's own journal write that `state` already holds beside it (the hub keeps
    /// both, and that write is not written again to replace it). `nil` when nothing changes.
    static func withoutResurrected(
        _ state: RecordState, _ entry: JournalEntry, reused: Set<Dot> = []
    ) throws(MufakatError) -> RecordState? {
        var fields = state.fields
        var changed = false
        for (name, entries) in state.fields {
            let owns = entry.entries[name] ?? []
            let before = (entry.base.fields[name] ?? []) + owns
            let kept = entries.filter { present in
                guard entry.hadSeen(present.dot), !entry.base.context.contains(present.dot), !reused.contains(present.dot),
                    !before.contains(where: { $0.dot == present.dot })
                else { return true }
                // Overwritten here by a later write — unless that later write is this copy's
                // own, taken into the journal, and the state holds it beside the entry already
                // (the hub holds it, perhaps re-stamped by a twin copy): the hub keeps the two
                // side by side and lets the entry go only for a new write, which this write
                // will not be (it is not written again).
                return !before.contains { later in
                    guard later.time > present.time else { return false }
                    guard owns.contains(later) else { return true }
                    return !entries.contains { held in
                        held.dot == later.dot || (held.value == later.value && held.time == later.time && held.author.utf8Equal(later.author))
                    }
                }
            }
            guard kept.count != entries.count else { continue }
            changed = true
            fields[name] = kept.isEmpty ? nil : kept
        }
        guard changed else { return nil }
        return try RecordState(context: state.context, fields: fields)
    }

    /// Whether `state` holds the write `entries` were taken from, as far as it holds
    /// anything under `dot`: every entry under it has the write's time and author (one write
    /// stamps all its fields alike) and, where both hold a field, its contents — a field it
    /// wrote may since have been overwritten, here or there.
    static func isHeld(_ dot: Dot, _ entries: [String: FieldEntry], in state: RecordState) -> Bool {
        let held = state.fields.compactMapValues { $0.first { $0.dot == dot } }
        let sample = entries.values.min(by: FieldEntry.stampPrecedes)
        return held.allSatisfy { field, entry in
            entry.time == sample?.time && sample.map { entry.author.utf8Equal($0.author) } == true && (entries[field].map { $0 == entry } ?? true)
        }
    }

    /// Dots under which `a` and `b` hold two different writes. One write stamps all its
    /// fields with one time and author: under one dot, entries that differ in those, or in
    /// one field's contents, are two writes — a dot used twice by two copies of one folder.
    public static func reusedDots(_ a: RecordState, _ b: RecordState) -> Set<Dot> {
        // Every (time, author) `a` holds under each dot: a state stored before 0.6 may hold
        // two under one (an author spelled two ways), and which one came first must not matter.
        var stamps: [Dot: [FieldEntry]] = [:]
        for entries in a.fields.values {
            for entry in entries { stamps[entry.dot, default: []].append(entry) }
        }
        var reused: Set<Dot> = []
        for (field, entries) in b.fields {
            for entry in entries {
                if let held = stamps[entry.dot], !held.contains(where: { $0.sameWrite(as: entry) }) {
                    reused.insert(entry.dot)
                } else if let mine = a.fields[field]?.first(where: { $0.dot == entry.dot }), mine != entry {
                    reused.insert(entry.dot)
                }
            }
        }
        return reused
    }

    public static func holdsReusedDot(_ a: RecordState, _ b: RecordState) -> Bool { !reusedDots(a, b).isEmpty }

    /// Whether `state` holds one dot with two times or authors (compared as bytes): one write
    /// stamps all its fields alike, so that is two writes under one dot.
    public static func stampsOneDotTwice(_ state: RecordState) -> Bool {
        var stamps: [Dot: FieldEntry] = [:]
        for entries in state.fields.values {
            for entry in entries {
                if let seen = stamps[entry.dot] {
                    if !seen.sameWrite(as: entry) { return true }
                } else {
                    stamps[entry.dot] = entry
                }
            }
        }
        return false
    }

    /// Dots under which `b` holds an entry that `a`'s context claims to have seen although
    /// `a` cannot have: `a` holds neither that entry nor anything at least as new in its
    /// field.
    ///
    /// Entries leave a field only for a write that had seen them, and such a write is later
    /// by the time rule (§6.2: `time ≥ 1 + the greatest time in the record`; a write made
    /// again under a new id keeps its time and replaces only what it replaced when first
    /// made). So a state that saw an entry holds it, or a later entry in its field. One
    /// that claims its dot without either saw another write under that dot: a twin copy's
    /// write in another record or field (a version vector claims every lower dot of a
    /// replica, also those its twin used elsewhere). Merging would drop `b`'s entry here
    /// while the hub keeps it: the two would never agree.
    ///
    /// `taken` are `a`'s own writes taken out of it into the journal (a replica taking a new
    /// id): they count as held.
    public static func claimedUnseen(by a: RecordState, in b: RecordState, taken: [String: [FieldEntry]] = [:]) -> Set<Dot> {
        var dots: Set<Dot> = []
        for (field, entries) in b.fields {
            let mine = (a.fields[field] ?? []) + (taken[field] ?? [])
            for entry in entries where a.context.contains(entry.dot) {
                guard !mine.contains(where: { $0.dot == entry.dot || $0.time >= entry.time }) else { continue }
                dots.insert(entry.dot)
            }
        }
        return dots
    }

    /// Takes out of `state` the writes of other replicas a push of it was refused for with
    /// `reused-dot` (PROTOCOL §6.4): the hub knows their dots as writes of other records, so
    /// the writes here are second writes under those dots, and the state that reused a dot
    /// would hide them wherever the two meet. They go to the journal, to be written again
    /// under this replica's id once it has pulled (``replay(_:onto:as:after:pulled:)``),
    /// values, times and authors kept. Returns the record without them (what it keeps
    /// until then) and the journal entry; `nil` when it holds none of `dots` — a dot of
    /// `own` is never taken (this replica takes a new id instead).
    public static func takeReused(
        _ state: RecordState, dots: Set<Dot>, key: RecordKey, own: ReplicaID
    ) throws(MufakatError) -> (kept: RecordState, journal: JournalEntry)? {
        var fields = state.fields
        var taken: [String: [FieldEntry]] = [:]
        for (name, entries) in state.fields {
            let reused = entries.filter { dots.contains($0.dot) && $0.dot.replica != own }
            guard !reused.isEmpty else { continue }
            taken[name] = reused
            let rest = entries.filter { !reused.contains($0) }
            fields[name] = rest.isEmpty ? nil : rest
        }
        guard !taken.isEmpty else { return nil }
        let kept = try RecordState(context: state.context, fields: fields)
        return (kept, JournalEntry(key: key, base: kept, entries: taken, seen: state.context))
    }

    /// What merging a pulled state did.
    public enum PulledMerge: Hashable, Sendable {
        /// The merged state, and the writes of other replicas this replica held under dots
        /// the hub knows as other writes: written again under this replica's id (by
        /// ``replay(_:onto:as:after:pulled:)``) so they are not lost, since their authors'
        /// copies may no longer hold them.
        case merged(RecordState, orphans: JournalEntry?)
        /// The hub holds another write under one of this replica's own dots: a copy of this
        /// folder used the same id. This replica must take a new id before merging.
        case ownDotReused
    }

    /// Merges a state received from the hub into the local one, also when both hold a write
    /// under the same dot with different contents, times or authors — a replica id used by
    /// two copies of one folder (a plain merge would refuse the first and silently drop one
    /// side of the second). The hub's view of a reused replica wins here; what this replica
    /// held under a reused dot of another replica comes back as orphans to write again.
    public static func mergePulled(
        _ local: RecordState, _ incoming: RecordState, key: RecordKey, own: ReplicaID, journaled: [String: [FieldEntry]] = [:]
    ) throws(MufakatError) -> PulledMerge {
        // Both ways: the hub may claim a dot this replica holds another write under (a
        // restored or copied replica reused it there), or this replica a dot the hub holds.
        let reused = reusedDots(local, incoming).union(claimedUnseen(by: local, in: incoming, taken: journaled))
            .union(claimedUnseen(by: incoming, in: local))
        if reused.isEmpty { return .merged(try local.merging(incoming), orphans: nil) }
        if reused.contains(where: { $0.replica == own }) { return .ownDotReused }
        // For each replica whose dot was reused, this side forgets that replica from the
        // lowest reused dot up, and takes out its entries there: the hub's view of those
        // writes comes in whole, and what this side held that the hub does not becomes an
        // orphan, written again under this replica's id.
        var lowest: [ReplicaID: UInt64] = [:]
        for dot in reused { lowest[dot.replica] = min(lowest[dot.replica] ?? .max, dot.counter) }
        var fields: [String: [FieldEntry]] = [:]
        var orphans: [String: [FieldEntry]] = [:]
        for (field, entries) in local.fields {
            var kept: [FieldEntry] = []
            for entry in entries {
                guard let from = lowest[entry.dot.replica], entry.dot.counter >= from else {
                    kept.append(entry)
                    continue
                }
                let held = incoming.fields[field]?.contains(entry) == true
                if !held && (reused.contains(entry.dot) || !incoming.context.contains(entry.dot)) { orphans[field, default: []].append(entry) }
            }
            if !kept.isEmpty { fields[field] = kept }
        }
        var context = local.context
        for (replica, from) in lowest { context[replica] = min(context[replica], from - 1) }
        let merged = try RecordState(context: context, fields: fields).merging(incoming)
        return .merged(merged, orphans: orphans.isEmpty ? nil : JournalEntry(key: key, base: merged, entries: orphans, seen: merged.context))
    }
}
