import Foundation
import GRDB
import MufakatCore
import MufakatSync

/// What the hub answered for one pending write (protocol 5, PROTOCOL.md §13.3), in the
/// store's terms (the wire's `named` line).
public struct WriteAnswer: Sendable, Hashable {
    public var write: WriteID
    public var dot: Dot?
    public var time: Int64
    public var author: String
    public var over: [Dot]
    public var exact: Bool
    /// Named by an earlier batch (or reserved): nothing changed at the hub now.
    public var earlier: Bool = false
    public var voucher: String?
    /// When refused: the code, fields and reason.
    public var refusal: (code: String, fields: [String], reason: String)?

    public init(
        write: WriteID, dot: Dot?, time: Int64 = 0, author: String = "", over: [Dot] = [], exact: Bool = false, earlier: Bool = false,
        voucher: String? = nil, refusal: (code: String, fields: [String], reason: String)? = nil
    ) {
        self.earlier = earlier
        self.write = write
        self.dot = dot
        self.time = time
        self.author = author
        self.over = over
        self.exact = exact
        self.voucher = voucher
        self.refusal = refusal
    }

    public static func == (lhs: WriteAnswer, rhs: WriteAnswer) -> Bool {
        lhs.write == rhs.write && lhs.dot == rhs.dot && lhs.time == rhs.time && lhs.author == rhs.author && lhs.over == rhs.over
            && lhs.exact == rhs.exact && lhs.voucher == rhs.voucher && lhs.refusal?.code == rhs.refusal?.code
            && lhs.refusal?.fields == rhs.refusal?.fields && lhs.refusal?.reason == rhs.refusal?.reason
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(write)
        hasher.combine(dot)
    }
}

/// What acknowledging one `named` answer did.
public struct NamingOutcome: Sendable, Hashable {
    /// Writes the hub named now (not a replay of an earlier name).
    public var named = 0
    /// Writes applied here from the answer alone (`exact`).
    public var applied = 0
    public var refused = 0
    /// Every `exact` answer was applied: the batch's records need not come back in the pull.
    public var skippable = true
}

/// What a protocol 5 session starts from (PROTOCOL.md §13.2).
public struct NamedSyncStart: Sendable, Hashable {
    /// Where the pull starts: the stored checkpoint, or 0 when the run that served it is gone
    /// or the hub was restored past it.
    public var checkpoint: UInt64
    /// Why the checkpoint was dropped, for the person; `nil` when it holds.
    public var hubBehind: String?
    /// Records whose named state holds writes the hub lacks (`welcome.held`): relay them first.
    public var relayKeys: [RecordKey]
    /// Of those, records with no voucher to send them back with (named before 0.8, or merged
    /// here from two states): the hub cannot take them back from this replica.
    public var unvouched: Int
}

extension ReplicaStore {
    // MARK: Writing

    /// Stores a local write made on `state` under `dot` — a pending write's local dot in a
    /// replica whose writes the hub names, the replica's own dot before that. `enteredAt` is
    /// the laptop's clock as it is, kept by the hub for display only: the entry's time in
    /// `state` is held above the record's latest so the laptop shows its own write as newest,
    /// but a slow clock is sent as slow, for a reader to see.
    static func storeWrite(
        _ db: Database, collection: String, id: String, state: RecordState, dot: Dot, author: String, enteredAt: Int64
    ) throws {
        guard let write = WriteID(localDot: dot) else {
            try db.saveRecord(collection: collection, id: id, state: state, seq: dot.counter)
            return
        }
        var values: [String: FieldValue] = [:]
        for (name, entries) in state.fields {
            guard let entry = entries.first(where: { $0.dot == dot }) else { continue }
            values[name] = entry.value
        }
        let record = try Row.fetchOne(
            db, cached: "SELECT named FROM records WHERE collection = ? AND id = ?", arguments: [collection, id])
        let named = try (record?["named"] as String?).map { try RecordState(json: $0) }
        let after = try String.fetchAll(
            db, cached: "SELECT wid FROM pending WHERE collection = ? AND id = ? AND absorbed = 0 ORDER BY seq", arguments: [collection, id]
        ).map { try WriteID($0) }
        let pushed = PushedWrite(
            collection: collection, id: id,
            write: PendingWrite(id: write, values: values, context: named?.context ?? VersionVector(), after: after, enteredAt: enteredAt, author: author))
        try db.execute(
            cached: "INSERT INTO pending (wid, collection, id, line) VALUES (?, ?, ?, ?)",
            arguments: [write.rawValue, collection, id, pushed.line])
        try db.saveRecord(collection: collection, id: id, state: state, seq: 0)
    }

    /// Lays a record's pending writes over its named state again and stores what a person
    /// sees; forgets the writes the named state now holds once no later write follows them.
    /// Returns the shown state before and after (`nil`: no record).
    @discardableResult
    static func overlay(_ db: Database, collection: String, id: String) throws -> (before: RecordState?, after: RecordState?) {
        let row = try Row.fetchOne(db, cached: "SELECT state, named FROM records WHERE collection = ? AND id = ?", arguments: [collection, id])
        let before = try (row?["state"] as String?).map { try RecordState(json: $0) }
        let named = try (row?["named"] as String?).map { try RecordState(json: $0) }
        let rows = try Row.fetchAll(
            db, cached: "SELECT wid, line, actor, counter, absorbed FROM pending WHERE collection = ? AND id = ? ORDER BY seq",
            arguments: [collection, id])
        var dots: [WriteID: Dot] = [:]
        var waiting: [PendingWrite] = []
        for row in rows {
            let write = try WriteID(row["wid"] as String)
            if let actor: String = row["actor"], let counter: Int64 = row["counter"] {
                dots[write] = Dot(replica: try ReplicaID(actor), counter: UInt64(bitPattern: counter))
            }
            if (row["absorbed"] as Int64) == 0 { waiting.append(try pendingWrite(row["line"])) }
        }
        if waiting.isEmpty, !rows.isEmpty {
            try db.execute(cached: "DELETE FROM pending WHERE collection = ? AND id = ?", arguments: [collection, id])
        }
        guard named != nil || !waiting.isEmpty else {
            try db.execute(cached: "DELETE FROM records WHERE collection = ? AND id = ?", arguments: [collection, id])
            return (before, nil)
        }
        let shown = (named ?? RecordState()).overlaying(waiting, named: dots)
        if shown != before { try db.saveRecord(collection: collection, id: id, state: shown, seq: 0) }
        return (before, shown)
    }

    static func pendingWrite(_ line: String) throws -> PendingWrite {
        var bytes = Array(line.utf8)
        let result = bytes.withUnsafeMutableBytes { raw in
            Result { () throws(RecordDecodingError) in try PushedWrite.decode(utf8: UnsafeRawBufferPointer(raw)) }
        }
        switch result {
        case .success(let pushed): return pushed.write
        case .failure(let error): throw MufakatError(.corruption, "a pending write in this replica is damaged: \(error.message)")
        }
    }

    /// Stores `state` as the record's named state, with its voucher, and notes its actors'
    /// counters; then marks the pending writes it holds as absorbed and lays the rest over it.
    static func storeNamed(
        _ db: Database, collection: String, id: String, state: RecordState, voucher: String?, tags: [Dot: String]
    ) throws -> (before: RecordState?, after: RecordState?) {
        let json = state.compactJSON
        let tagsJSON = tags.isEmpty ? nil : RecordTags.json(tags)
        let updated = try db.cachedStatement(sql: "UPDATE records SET named = ?, voucher = ?, tags = ? WHERE collection = ? AND id = ?")
        try updated.execute(arguments: [json, voucher, tagsJSON, collection, id])
        if db.changesCount == 0 {
            try db.saveRecord(collection: collection, id: id, state: state, seq: 0)
            try updated.execute(arguments: [json, voucher, tagsJSON, collection, id])
        }
        let noteActor = try db.cachedStatement(sql: """
            INSERT INTO actors (actor, counter) VALUES (?, ?)
            ON CONFLICT (actor) DO UPDATE SET counter = max(counter, excluded.counter)
            """)
        for (actor, counter) in state.context.counters {
            try noteActor.execute(arguments: [actor.rawValue, Int64(bitPattern: min(counter, Counters.maxCounter))])
        }
        let rows = try Row.fetchAll(
            db, cached: "SELECT seq, actor, counter FROM pending WHERE collection = ? AND id = ? AND absorbed = 0 AND actor IS NOT NULL",
            arguments: [collection, id])
        for row in rows {
            let dot = Dot(replica: try ReplicaID(row["actor"] as String), counter: UInt64(bitPattern: row["counter"] as Int64))
            if state.context.contains(dot) {
                try db.execute(cached: "UPDATE pending SET absorbed = 1, refused = NULL WHERE seq = ?", arguments: [row["seq"] as Int64])
            }
        }
        return try overlay(db, collection: collection, id: id)
    }

    // MARK: Syncing

    /// Whether the hub names this replica's writes (protocol 5).
    public func namesWrites() throws -> Bool {
        try writer.read { db in try Self.requireMetadata(db).naming }
    }

    /// Checks the feed checkpoint against the hub's runs and finds the records the hub lost
    /// (PROTOCOL.md §13.2, §13.4).
    ///
    /// `reseed`: the hub runs in re-seed mode (rebuilt without its key): every named state
    /// goes back, vouched or not.
    public func beginNamedSync(
        incarnations: [(actor: String, from: UInt64)], sequence: UInt64, held: [String: UInt64], reseed: Bool = false, hubID: String = ""
    ) async throws -> NamedSyncStart {
        try await writer.write { db in
            var metadata = try Self.requireMetadata(db)
            if !hubID.isEmpty, metadata.hubID != hubID {
                metadata.hubID = hubID
                try metadata.save(db)
            }
            var start = NamedSyncStart(checkpoint: metadata.checkpoint, hubBehind: nil, relayKeys: [], unvouched: 0)
            if metadata.checkpoint > 0 {
                let index = incarnations.firstIndex { $0.actor == metadata.checkpointActor }
                let end = index.map { $0 + 1 < incarnations.count ? incarnations[$0 + 1].from : sequence }
                if let end, metadata.checkpoint <= end {
                    start.checkpoint = metadata.checkpoint
                } else {
                    start.hubBehind = index == nil
                        ? "the hub no longer knows the run that served this replica's last pull (a hub rebuilt, or restored from an older backup)"
                        : "the hub was restored from a backup older than this replica's last pull"
                    start.checkpoint = 0
                    metadata.checkpoint = 0
                    try metadata.save(db)
                }
            }
            // A write the hub named but this replica has not pulled yet, under a dot the hub
            // no longer holds (restored since): the hub lost it, and only this replica has
            // it. It is sent again, to be named anew.
            for row in try Row.fetchAll(db, cached: "SELECT seq, actor, counter FROM pending WHERE absorbed = 0 AND actor IS NOT NULL") {
                guard UInt64(bitPattern: row["counter"] as Int64) > held[row["actor"] as String] ?? 0 else { continue }
                try db.execute(cached: "UPDATE pending SET actor = NULL, counter = NULL WHERE seq = ?", arguments: [row["seq"] as Int64])
            }
            // Records holding writes the hub may lack go back once per hub run: `held` gives,
            // for each run in the hub's file, what it named before the file was copied, and
            // nothing for runs the file lost, so a relay of one record cannot hide another's
            // lost write of the same run (PROTOCOL.md §13.4).
            let run = incarnations.last?.actor ?? ""
            let beyond = try Row.fetchAll(db, cached: "SELECT actor, counter FROM actors").contains { row in
                UInt64(bitPattern: row["counter"] as Int64) > held[row["actor"] as String] ?? 0
            }
            let behind = beyond && metadata.relayPass != run
            guard behind || reseed else { return start }
            let rows = try Row.fetchCursor(db, sql: "SELECT collection, id, named, voucher FROM records WHERE named IS NOT NULL")
            while let row = try rows.next() {
                let state = try RecordState(json: row["named"])
                guard reseed || state.context.counters.contains(where: { $0.value > held[$0.key.rawValue] ?? 0 }) else { continue }
                if (row["voucher"] as String?) == nil, !reseed {
                    start.unvouched += 1
                } else {
                    start.relayKeys.append(RecordKey(collection: row["collection"], id: row["id"]))
                }
            }
            if start.hubBehind == nil {
                start.hubBehind = reseed
                    ? "the hub runs in re-seed mode (rebuilt): this replica sends back every record it holds"
                    : "the hub lacks writes this replica holds (restored from a backup)"
            }
            return start
        }
    }

    /// Notes that every record `beginNamedSync` listed for relay reached hub run `run`: the
    /// next sessions with that run need not send them again.
    public func noteRelayPass(run: String) async throws {
        try await writer.write { db in
            var metadata = try Self.requireMetadata(db)
            metadata.relayPass = run
            try metadata.save(db)
        }
    }

    /// The named states of `keys`, with their vouchers, to relay.
    public func relayRecords(_ keys: ArraySlice<RecordKey>) async throws -> [ReplicatedRecord] {
        try await writer.read { db in
            try keys.compactMap { key in
                guard let row = try Row.fetchOne(
                    db, cached: "SELECT named, voucher, tags FROM records WHERE collection = ? AND id = ?", arguments: [key.collection, key.id]),
                    let named: String = row["named"]
                else { return nil }
                return ReplicatedRecord(
                    collection: key.collection, id: key.id, state: try RecordState(json: named), voucher: row["voucher"],
                    tags: (row["tags"] as String?).flatMap(RecordTags.parse))
            }
        }
    }

    /// The next pending writes to send, oldest first, after local sequence `after`: at most
    /// `limit` writes and about `maxBytes` of write lines. Writes the hub named already wait
    /// for the pull, not here.
    public func nextWrites(after: Int64, limit: Int, maxBytes: Int = 1 << 20) async throws -> (writes: [PushedWrite], last: Int64) {
        try await writer.read { db in
            // A write made on top of one the hub refused waits until that one is settled
            // (accepted when sent again, or discarded): sent now, it would be named over the
            // refused write and drop it unseen.
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT seq, collection, id, line FROM pending p WHERE seq > ? AND absorbed = 0 AND actor IS NULL
                    AND NOT EXISTS (
                        SELECT 1 FROM pending q WHERE q.collection = p.collection AND q.id = p.id AND q.seq < p.seq
                        AND q.absorbed = 0 AND q.refused IS NOT NULL)
                    ORDER BY seq LIMIT ?
                    """,
                arguments: [after, limit])
            var writes: [PushedWrite] = []
            var last = after
            var bytes = 0
            while let row = try rows.next() {
                let line: String = row["line"]
                writes.append(PushedWrite(collection: row["collection"], id: row["id"], write: try Self.pendingWrite(line)))
                last = row["seq"]
                bytes += line.utf8.count
                if bytes >= maxBytes { break }
            }
            return (writes, last)
        }
    }

    /// Stores the hub's answer to one `write` batch, in one transaction: names, refusals, and
    /// the named states of writes answered `exact` (applied here as the hub applied them).
    public func acknowledgeWrites(_ writes: [PushedWrite], answers: [WriteAnswer]) async throws -> NamingOutcome {
        try await writer.write { [clock] db in
            var outcome = NamingOutcome()
            var touched: [RecordKey] = []
            var followed: [RecordKey: VersionVector?] = [:]
            for (pushed, answer) in zip(writes, answers) {
                let key = RecordKey(collection: pushed.collection, id: pushed.id)
                if !touched.contains(key) { touched.append(key) }
                // A refused or replayed write changed nothing at the hub: the chain of exact
                // writes of the record goes on past it, as the hub's does.
                if let refusal = answer.refusal {
                    outcome.refused += 1
                    try db.execute(
                        cached: "UPDATE pending SET refused = ?, reason = ?, fields = ?, refused_at = ? WHERE wid = ?",
                        arguments: [refusal.code, refusal.reason, refusal.fields.joined(separator: ","), clock(), pushed.write.id.rawValue])
                    continue
                }
                guard let dot = answer.dot else { continue }
                try db.execute(
                    cached: "UPDATE pending SET actor = ?, counter = ?, refused = NULL WHERE wid = ?",
                    arguments: [dot.replica.rawValue, Int64(bitPattern: dot.counter), pushed.write.id.rawValue])
                if !answer.earlier { outcome.named += 1 }
                guard answer.exact else {
                    if !answer.earlier { followed[key] = .some(nil) }
                    continue
                }
                let row = try Row.fetchOne(
                    db, cached: "SELECT named, tags FROM records WHERE collection = ? AND id = ?", arguments: [key.collection, key.id])
                let named = try (row?["named"] as String?).map { try RecordState(json: $0) } ?? RecordState()
                var tags = (row?["tags"] as String?).flatMap(RecordTags.parse) ?? [:]
                // Applied here only from the state the hub applied it to: the write's own
                // context, or what the batch's earlier exact writes of the record made of it.
                let expected = followed[key] ?? pushed.write.context
                guard let expected, named.context == expected else {
                    outcome.skippable = false
                    followed[key] = .some(nil)
                    continue
                }
                let state = try named.applyingNamed(
                    pushed.write.values, seen: pushed.write.context, over: Set(answer.over), dot: dot, time: answer.time,
                    author: answer.author)
                followed[key] = state.context
                tags[dot] = pushed.write.id.tag
                _ = try Self.storeNamed(
                    db, collection: key.collection, id: key.id, state: state, voucher: answer.voucher, tags: RecordTags.pruned(tags, to: state))
                outcome.applied += 1
            }
            for key in touched {
                // A write answered with a dot the named state already holds (named before, or
                // reserved by a later write) is done.
                if let named = try String.fetchOne(
                    db, cached: "SELECT named FROM records WHERE collection = ? AND id = ?", arguments: [key.collection, key.id])
                {
                    let context = try RecordState(json: named).context
                    for row in try Row.fetchAll(
                        db, cached: "SELECT seq, actor, counter FROM pending WHERE collection = ? AND id = ? AND absorbed = 0 AND actor IS NOT NULL",
                        arguments: [key.collection, key.id])
                    where context.contains(Dot(replica: try ReplicaID(row["actor"] as String), counter: UInt64(bitPattern: row["counter"] as Int64))) {
                        try db.execute(cached: "UPDATE pending SET absorbed = 1 WHERE seq = ?", arguments: [row["seq"] as Int64])
                    }
                }
                try Self.overlay(db, collection: key.collection, id: key.id)
            }
            return outcome
        }
    }

    /// Stores one pulled batch of a protocol 5 session with its checkpoint, in one
    /// transaction: each state becomes the record's named state (merged with what this
    /// replica had named, which a hub restored from a backup may lack until relayed), the
    /// pending writes it holds are done, the rest are laid over it.
    public func applyNamedPull(_ records: [ReplicatedRecord], through: UInt64, actor: String) async throws -> PullOutcome {
        try await writer.write { db in
            var outcome = PullOutcome(changed: 0, newConflicts: 0)
            for record in records {
                let row = try Row.fetchOne(
                    db, cached: "SELECT named, voucher, tags FROM records WHERE collection = ? AND id = ?", arguments: [record.collection, record.id])
                let named = try (row?["named"] as String?).map { try RecordState(json: $0) }
                let namedTags = (row?["tags"] as String?).flatMap(RecordTags.parse) ?? [:]
                var state = record.state
                var voucher = record.voucher
                var tags = record.tags ?? [:]
                if let named {
                    state = try named.merging(record.state)
                    if state != record.state {
                        // Merged with writes the hub lacks (it was restored): vouched only if
                        // it is what this replica held.
                        voucher = state == named ? row?["voucher"] : nil
                        tags = RecordTags.pruned(tags.merging(namedTags) { served, _ in served }, to: state)
                        if state == named { tags = namedTags }
                    }
                }
                let (before, after) = try Self.storeNamed(
                    db, collection: record.collection, id: record.id, state: state, voucher: voucher, tags: tags)
                if before != after { outcome.changed += 1 }
                if let after, after.isConflicted, !(before?.isConflicted ?? false) { outcome.newConflicts += 1 }
            }
            var metadata = try Self.requireMetadata(db)
            metadata.checkpoint = through
            metadata.checkpointActor = actor
            try metadata.save(db)
            return outcome
        }
    }

    /// Pending writes not yet named by the hub (sent or not).
    static func unnamedCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, cached: "SELECT COUNT(*) FROM pending WHERE absorbed = 0 AND actor IS NULL") ?? 0
    }

    /// Writes the hub refused, by record, latest refusal first.
    static func refusedWrites(_ db: Database) throws -> [PendingRejection] {
        try Row.fetchAll(db, cached: """
            SELECT collection, id, refused, fields, reason, max(refused_at) AS at FROM pending
            WHERE refused IS NOT NULL AND absorbed = 0 GROUP BY collection, id ORDER BY at DESC, collection, id
            """).map { row in
            PendingRejection(
                collection: row["collection"], id: row["id"], code: row["refused"],
                fields: (row["fields"] as String).split(separator: ",").map(String.init), reason: row["reason"], at: row["at"])
        }
    }

    /// Removes what this replica wrote to a record that the hub refused: its refused pending
    /// writes, returning the values they wrote. Later writes of the record, held back until
    /// then, go at the next sync (the hub counts the discarded ones they follow as seen, and
    /// they never arrive).
    static func discardRefusedWrites(_ db: Database, collection: String, id: String) throws -> [String: FieldValue]? {
        let lines = try String.fetchAll(
            db, cached: "SELECT line FROM pending WHERE collection = ? AND id = ? AND refused IS NOT NULL AND absorbed = 0 ORDER BY seq",
            arguments: [collection, id])
        guard !lines.isEmpty else { return nil }
        var values: [String: FieldValue] = [:]
        for line in lines { values.merge(try pendingWrite(line).values) { _, later in later } }
        try db.execute(
            cached: "DELETE FROM pending WHERE collection = ? AND id = ? AND refused IS NOT NULL AND absorbed = 0",
            arguments: [collection, id])
        try overlay(db, collection: collection, id: id)
        return values
    }

    /// Makes a replica of 0.7, whose last sync left nothing to send, one whose writes the hub
    /// names: every state becomes the record's named state (without a voucher: the hub
    /// never vouched for it), and the next pull starts from 0 under the hub's runs.
    public func startNaming() async throws {
        try await writer.write { db in
            var metadata = try Self.requireMetadata(db)
            guard !metadata.naming else { return }
            try db.execute(cached: "UPDATE records SET named = state, voucher = NULL")
            try db.execute(cached: """
                INSERT INTO actors (actor, counter)
                SELECT key, max(value) FROM records, json_each(json_extract(records.named, '$.context')) GROUP BY key
                ON CONFLICT (actor) DO UPDATE SET counter = max(counter, excluded.counter)
                """)
            metadata.naming = true
            metadata.checkpoint = 0
            metadata.checkpointActor = ""
            try metadata.save(db)
        }
    }

    /// Whether a replica of 0.7 has nothing left to send: no change after its last
    /// acknowledged push, no record waiting to be sent again, no journal.
    public func legacyClean() async throws -> Bool {
        try await writer.read { db in
            let metadata = try Self.requireMetadata(db)
            return try Self.pendingCount(db, after: metadata.pushedThrough) == 0
                && (try Int.fetchOne(db, cached: "SELECT COUNT(*) FROM resend") ?? 0) == 0
                && (try Int.fetchOne(db, cached: "SELECT COUNT(*) FROM journal") ?? 0) == 0
        }
    }
}

extension ReplicaStore {
    /// Takes a new replica id for sessions, in a replica whose writes the hub names: the id
    /// only says who is connecting (a hub rebuilt empty gave this one to another token), so
    /// nothing else changes — pending writes keep their write ids. Returns the old and new id.
    public func takeNewSessionID() async throws -> (old: ReplicaID, new: ReplicaID) {
        try await writer.write { db in
            var metadata = try Self.requireMetadata(db)
            let old = metadata.replica
            metadata.previousReplicas.append(old.rawValue)
            metadata.replica = ReplicaID.random()
            try metadata.save(db)
            return (old, metadata.replica)
        }
    }
}
