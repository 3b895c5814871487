import GRDB
import MufakatCore
import MufakatSync

/// What merging a pulled batch did.
public struct PullOutcome: Sendable, Hashable {
    /// Records whose local state changed.
    public var changed: Int
    /// Records that were not conflicted before and are now.
    public var newConflicts: Int
    /// The hub holds another write under one of this replica's dots: the replica took a new
    /// id, stored nothing of the batch and must pull again from 0 under it.
    public var newIdentity = false
}

/// What the start of a sync found, once stored.
public struct SyncStart: Sendable, Hashable {
    public var verdict: WelcomeVerdict
    /// The replica id this replica syncs as from now on.
    public var replica: ReplicaID
    /// The id it stopped using, when it took a new one.
    public var previousReplica: ReplicaID?
    /// Records whose unacknowledged writes wait to be written again under the new id.
    public var journaled: Int
}

/// One push, ready to send: its header is stored as in flight before it goes out.
public struct PushBatch: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Records written here, in local-sequence order.
        case pending
        /// Records to send again: refused before, or the hub lacked what they hold.
        case resend
        /// Every record, for a hub in re-seed mode; `rowid` is how far this batch reaches.
        case relay(rowid: Int64)
    }

    public var kind: Kind
    public var records: [ReplicatedRecord]
    public var header: PushHeader
}

/// A record the hub refused and this replica keeps sending.
public struct PendingRejection: Sendable, Hashable {
    public var collection: String
    public var id: String
    /// The hub's code (`invalid`, `forged-dot`, …), or `hub-lacks` for a record the hub
    /// turned out not to hold whole.
    public var code: String
    public var fields: [String]
    /// The rule that failed, as the hub put it (empty from hubs before 0.3.1).
    public var reason: String
    public var at: Int64
}

extension ReplicaStore {
    /// The replica's half of the ledger.
    public func progress() throws -> ReplicaProgress {
        try writer.read { db in Self.progress(try Self.requireMetadata(db)) }
    }

    static func progress(_ metadata: ReplicaMetadata) -> ReplicaProgress {
        ReplicaProgress(
            replica: metadata.replica, counter: metadata.counter, pushedThrough: metadata.pushedThrough,
            lastPush: metadata.lastPush,
            inflight: metadata.inflightPush.isEmpty ? nil : .init(id: metadata.inflightPush, through: metadata.inflightThrough),
            checkpoint: metadata.checkpoint, hubID: metadata.hubID, dotReused: metadata.dotReused,
            pushHistory: metadata.pushHistory)
    }

    /// Compares this replica with what the hub remembers of it (``ReplicaProgress/evaluate(_:)``)
    /// and stores what the verdict asks for, in one transaction:
    ///
    /// - consistent: nothing but the hub id;
    /// - acknowledgement lost: the in-flight push becomes the last one; its records are
    ///   sent again (the hub answers `unchanged`), which also brings back any refusal;
    /// - hub behind: checkpoint and pushes start over; every record written here is pushed
    ///   again;
    /// - replica behind: a new replica id; each record's writes of the old id go to the
    ///   journal (the record keeps the rest), to be written again under the new id once
    ///   everything is pulled, where the hub does not hold them (``replayJournal()``).
    public func beginSync(_ hub: HubView) async throws -> SyncStart {
        try await writer.write { [clock] db in
            var metadata = try Self.requireMetadata(db)
            let verdict = Self.progress(metadata).evaluate(hub)
            var start = SyncStart(verdict: verdict, replica: metadata.replica, previousReplica: nil, journaled: 0)
            switch verdict {
            case .consistent:
                break
            case .acknowledgementLost(let inflight):
                metadata.pushHistory = Self.progress(metadata).history(after: inflight.id)
                metadata.lastPush = inflight.id
            case .hubBehind:
                metadata.pushedThrough = 0
                metadata.checkpoint = 0
                // The push it leaves behind stays one this copy made: a hub restored later
                // from a snapshot holding it is behind, not a twin's.
                metadata.pushHistory = Self.progress(metadata).historyKeepingInflight(after: hub.ledger.push)
                metadata.lastPush = hub.ledger.push
                metadata.relayedHub = ""
                metadata.relayCursor = 0
                try db.execute(cached: "UPDATE records SET acked = 0")
            case .replicaBehind:
                start.previousReplica = metadata.replica
                start.journaled = try Self.incarnate(
                    db, &metadata, sharedThrough: Self.progress(metadata).sharedThrough(hub.ledger))
                start.replica = metadata.replica
            }
            metadata.inflightPush = ""
            metadata.inflightThrough = 0
            metadata.hubID = hub.hubID
            try metadata.save(db)
            return start
        }
    }

    /// Stores the organisation and role the hub gave this replica's token, for the offline
    /// checks of write rights. When they change, what the replica may receive changes:
    ///
    /// - it pulls from 0 again, which merges what it holds as a no-op and brings what it may
    ///   receive now (another organisation's drafts, for a new coordinator);
    /// - it drops the records it may no longer receive — drafts kept in-house by another
    ///   organisation (``InHouseRule``) — that hold nothing of its own still to send; the
    ///   pull brings back any the hub has published meanwhile.
    ///
    /// So its digest stays the hub's digest for its token. Returns a sentence when something
    /// changed (nothing on the first sync that names them).
    public func noteAccess(_ writer: Writer) async throws -> String? {
        try await self.writer.write { db in
            var metadata = try Self.requireMetadata(db)
            guard metadata.org != writer.org || metadata.role != writer.role.rawValue else { return nil }
            let first = metadata.org.isEmpty && metadata.role.isEmpty
            metadata.org = writer.org
            metadata.role = writer.role.rawValue
            var dropped = 0
            if !first {
                metadata.checkpoint = 0
                if !writer.role.seesEveryOrganisation {
                    dropped = try Self.dropOthersInHouse(db, org: writer.org, pushedThrough: metadata.pushedThrough, naming: metadata.naming)
                }
            }
            try metadata.save(db)
            guard !first else { return nil }
            return "the hub now gives this replica's token the role \(writer.role.rawValue) for \(writer.org); it pulls everything again to receive what that role may see"
                + (dropped > 0 ? ", and removed \(dropped) draft(s) of other organizations it may no longer hold" : "")
        }
    }

    /// Deletes the records kept in-house by an organisation other than `org` that hold no
    /// write of this replica still to send; returns how many.
    static func dropOthersInHouse(_ db: Database, org: String, pushedThrough: UInt64, naming: Bool = false) throws -> Int {
        var dropped = 0
        for schema in Catalogue.collections {
            guard let rule = schema.inHouse else { continue }
            let rows = try Row.fetchAll(
                db,
                sql: naming
                    ? """
                        SELECT id, state FROM records r WHERE collection = ?
                        AND NOT EXISTS (SELECT 1 FROM pending p WHERE p.collection = r.collection AND p.id = r.id AND p.absorbed = 0)
                        """
                    : """
                        SELECT id, state FROM records r WHERE collection = ? AND seq <= ?
                        AND NOT EXISTS (SELECT 1 FROM resend s WHERE s.collection = r.collection AND s.id = r.id)
                        AND NOT EXISTS (SELECT 1 FROM journal j WHERE j.collection = r.collection AND j.id = r.id)
                        """,
                arguments: naming ? [schema.name] : [schema.name, Int64(bitPattern: min(pushedThrough, Counters.maxCounter))])
            for row in rows {
                let state = try RecordState(json: row["state"])
                guard let owner = rule.organization(of: state), owner != org else { continue }
                try db.execute(cached: "DELETE FROM records WHERE collection = ? AND id = ?", arguments: [schema.name, row["id"] as String])
                dropped += 1
            }
        }
        return dropped
    }

    /// Takes a new replica id now, as for a replica behind its own id: the hub gave this id
    /// to another token.
    public func takeNewIdentity() async throws -> SyncStart {
        try await writer.write { db in
            var metadata = try Self.requireMetadata(db)
            let old = metadata.replica
            let journaled = try Self.incarnate(db, &metadata, sharedThrough: 0)
            try metadata.save(db)
            return SyncStart(verdict: .replicaBehind(.reusedDot), replica: metadata.replica, previousReplica: old, journaled: journaled)
        }
    }

    /// Takes a new replica id: moves each record's writes of the old id into the journal, and
    /// starts the new id's progress from zero. Returns how many records were journaled.
    ///
    /// `sharedThrough` (``ReplicaProgress/sharedThrough(_:)``): how far the hub's history of
    /// the old id is this copy's own. A journaled write counts as acknowledged (and so, if
    /// the hub no longer holds it, as overwritten there) only up to it: above, what the
    /// hub saw under that dot may be a twin's write.
    static func incarnate(
        _ db: Database, _ metadata: inout ReplicaMetadata, forgetting: Bool = true, sharedThrough: UInt64 = .max
    ) throws -> Int {
        let old = metadata.replica
        var journaled = 0
        let rows = try Row.fetchAll(db, cached: "SELECT collection, id, state, seq, acked FROM records WHERE seq > 0")
        for row in rows {
            let record = LocalRecord(
                collection: row["collection"], id: row["id"], state: try RecordState(json: row["state"]),
                seq: UInt64(bitPattern: row["seq"] as Int64), acked: UInt64(bitPattern: row["acked"] as Int64))
            guard var entry = try Incarnation.extract(record, from: old, forgetting: forgetting) else { continue }
            entry.acked = min(entry.acked, sharedThrough)
            // Writes still waiting from before (a cut sync, or others' writes taken while
            // pulling) stay in the journal beside the ones taken now.
            if let waiting = try loadJournal(db, record.key) {
                entry = Incarnation.mergeJournal(waiting: waiting, taken: entry)
            }
            journaled += 1
            try saveJournal(db, entry)
            if entry.base.fields.isEmpty {
                try db.execute(cached: "DELETE FROM records WHERE collection = ? AND id = ?", arguments: [record.collection, record.id])
            } else {
                try db.saveRecord(collection: record.collection, id: record.id, state: entry.base, seq: 0)
            }
        }
        try db.execute(cached: "UPDATE records SET seq = 0, acked = 0")
        try db.execute(cached: "DELETE FROM resend")
        metadata.previousReplicas.append(old.rawValue)
        var replica = ReplicaID.random()
        while replica == old || metadata.previousReplicas.contains(replica.rawValue) { replica = ReplicaID.random() }
        metadata.replica = replica
        metadata.counter = 0
        metadata.pushedThrough = 0
        metadata.lastPush = ""
        metadata.inflightPush = ""
        metadata.inflightThrough = 0
        metadata.relayedHub = ""
        metadata.relayCursor = 0
        metadata.dotReused = false
        metadata.pushHistory = []
        // The new id pulls everything: the hub's feed skips nothing for it, and the ledger's
        // `served` for it starts at 0.
        metadata.checkpoint = 0
        return journaled
    }

    /// Adds other replicas' writes that lost their dot to the journal, beside whatever
    /// waits there for the record already.
    static func addToJournal(_ db: Database, _ entry: JournalEntry) throws {
        guard var waiting = try loadJournal(db, entry.key) else { return try saveJournal(db, entry) }
        // What the record had seen stays what it had seen when the journal was taken: the
        // orphans' context holds what was pulled since, which the journal's writes never saw
        // (the replay would replace those entries). The record as it stays is the journal's.
        // `acked` counts the old id's writes only: beside other replicas' writes it would
        // make theirs look acknowledged, so it goes (a write the hub holds is still
        // recognised and not written twice).
        waiting.add(entry.entries)
        waiting.acked = 0
        try saveJournal(db, waiting)
    }

    /// The journal entry waiting for `key`, if any.
    static func loadJournal(_ db: Database, _ key: RecordKey) throws -> JournalEntry? {
        try Row.fetchOne(
            db, cached: "SELECT collection, id, base, entries, seen, acked FROM journal WHERE collection = ? AND id = ?",
            arguments: [key.collection, key.id]
        ).map(journalEntry)
    }

    /// Every journal entry waiting.
    static func loadJournal(_ db: Database) throws -> [JournalEntry] {
        try Row.fetchAll(db, cached: "SELECT collection, id, base, entries, seen, acked FROM journal").map(journalEntry)
    }

    private static func journalEntry(_ row: Row) throws -> JournalEntry {
        let taken = try RecordState(json: row["entries"])
        let seen: String = row["seen"]
        // Journals written before 0.5 kept what the record had seen as the entries' context.
        return JournalEntry(
            key: RecordKey(collection: row["collection"], id: row["id"]), base: try RecordState(json: row["base"]),
            entries: taken.fields, seen: seen.isEmpty ? taken.context : try RecordState(json: seen).context,
            acked: UInt64(bitPattern: row["acked"] as Int64))
    }

    /// Stores `entry` as the journal of its record, replacing what waited there (callers
    /// merge first).
    static func saveJournal(_ db: Database, _ entry: JournalEntry) throws {
        try db.execute(
            cached: "INSERT OR REPLACE INTO journal (collection, id, base, entries, seen, acked) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                entry.key.collection, entry.key.id, entry.base.compactJSON, try entry.entriesState.compactJSON,
                try RecordState(context: entry.seen, fields: [:]).compactJSON, Int64(bitPattern: entry.acked),
            ])
    }

    /// Whether writes wait in the journal to be written again under this replica's id.
    public func hasJournal() async throws -> Bool {
        try await writer.read { db in try Bool.fetchOne(db, cached: "SELECT 1 FROM journal LIMIT 1") ?? false }
    }

    /// Writes the journal again as new writes of this replica's id (see
    /// ``Incarnation/replay(_:onto:as:after:)``), in one transaction. Call it once the
    /// replica pulled everything, so a write the hub already holds is not written twice.
    @discardableResult
    public func replayJournal() async throws -> [ReplayedWrite] {
        try await writer.write { db in try Self.replayJournal(db) }
    }

    static func replayJournal(_ db: Database, pulled: Bool = true) throws -> [ReplayedWrite] {
        var metadata = try requireMetadata(db)
        let journal = try loadJournal(db)
        var current: [RecordKey: RecordState] = [:]
        for entry in journal {
            if let state = try db.fetchState(collection: entry.key.collection, id: entry.key.id) { current[entry.key] = state }
        }
        guard !journal.isEmpty else { return [] }
        let result = try Incarnation.replay(journal, onto: current, as: metadata.replica, after: metadata.counter, pulled: pulled)
        var seqs: [RecordKey: UInt64] = [:]
        for write in result.writes {
            if let dot = write.newDot { seqs[write.key] = max(seqs[write.key] ?? 0, dot.counter) }
        }
        for (key, state) in result.states {
            // A record the replay only cleaned (entries that came back from the hub although
            // this replica had seen them overwritten) keeps its local sequence: a write made
            // here since the new id took over stays pending.
            let seq = try seqs[key] ?? Int64.fetchOne(
                db, cached: "SELECT seq FROM records WHERE collection = ? AND id = ?", arguments: [key.collection, key.id]
            ).map { UInt64(bitPattern: $0) } ?? 0
            try db.saveRecord(collection: key.collection, id: key.id, state: state, seq: seq)
        }
        metadata.counter = result.counter
        try metadata.save(db)
        try db.execute(cached: "DELETE FROM journal")
        return result.writes.filter { $0.newDot != nil }
    }

    /// The next batch of records written here after the last acknowledged push, in
    /// local-sequence order, stored as in flight.
    public func nextPendingPush(limit: Int, maxBytes: Int = 1 << 20) async throws -> PushBatch? {
        try await writer.write { db in
            let metadata = try Self.requireMetadata(db)
            let (records, last) = try Self.readBatch(
                db, after: Int64(bitPattern: metadata.pushedThrough), by: "seq", limit: limit, maxBytes: maxBytes)
            guard !records.isEmpty else { return nil }
            return try Self.startPush(db, metadata, kind: .pending, records: records, through: UInt64(bitPattern: last))
        }
    }

    /// A batch of records to send again, from `keys` (taken once at the start of a sync so
    /// that a record refused again is not retried in a loop).
    public func resendPush(_ keys: ArraySlice<RecordKey>) async throws -> PushBatch? {
        try await writer.write { db in
            let metadata = try Self.requireMetadata(db)
            var records: [ReplicatedRecord] = []
            for key in keys {
                guard let state = try db.fetchState(collection: key.collection, id: key.id) else { continue }
                records.append(ReplicatedRecord(collection: key.collection, id: key.id, state: state))
            }
            guard !records.isEmpty else { return nil }
            return try Self.startPush(db, metadata, kind: .resend, records: records, through: metadata.pushedThrough)
        }
    }

    /// The next batch of every record, for a hub in re-seed mode; `nil` once this replica
    /// relayed everything to `hubID`.
    public func nextRelayPush(hubID: String, limit: Int, maxBytes: Int = 1 << 20) async throws -> PushBatch? {
        try await writer.write { db in
            let metadata = try Self.requireMetadata(db)
            guard metadata.relayedHub != hubID else { return nil }
            let (records, rowid) = try Self.readBatch(db, after: metadata.relayCursor, by: "rowid", limit: limit, maxBytes: maxBytes)
            if records.isEmpty {
                var done = metadata
                done.relayedHub = hubID
                done.relayCursor = 0
                try done.save(db)
                return nil
            }
            return try Self.startPush(db, metadata, kind: .relay(rowid: rowid), records: records, through: metadata.pushedThrough)
        }
    }

    /// Records with `column` (`seq` or `rowid`) above `after`, in that order: at most `limit`
    /// of them and about `maxBytes` of state text; and the column's value for the last one.
    private static func readBatch(
        _ db: Database, after: Int64, by column: String, limit: Int, maxBytes: Int
    ) throws -> (records: [ReplicatedRecord], last: Int64) {
        let rows = try Row.fetchCursor(
            db, sql: "SELECT collection, id, state, \(column) AS position FROM records WHERE \(column) > ? ORDER BY \(column) LIMIT ?",
            arguments: [after, limit])
        var records: [ReplicatedRecord] = []
        var last = after
        var bytes = 0
        while let row = try rows.next() {
            let json: String = row["state"]
            records.append(ReplicatedRecord(collection: row["collection"], id: row["id"], state: try RecordState(json: json)))
            last = row["position"]
            bytes += json.utf8.count
            if bytes >= maxBytes { break }
        }
        return (records, last)
    }

    private static func startPush(
        _ db: Database, _ metadata: ReplicaMetadata, kind: PushBatch.Kind, records: [ReplicatedRecord], through: UInt64
    ) throws -> PushBatch {
        var metadata = metadata
        let header = PushHeader(through: through, id: PushID.random(), after: metadata.lastPush, counter: metadata.counter)
        metadata.inflightPush = header.id
        metadata.inflightThrough = through
        try metadata.save(db)
        return PushBatch(kind: kind, records: records, header: header)
    }

    /// Stores the hub's acknowledgement of `batch`, in one transaction: the push becomes the
    /// last acknowledged one; each accepted record notes how far the hub holds its writes
    /// and leaves the resend list; each refused one joins it with the hub's code and
    /// fields. When the hub listed fewer refusals than it counted, every unlisted record of
    /// the batch is kept for resending: sending it again costs nothing if it was accepted.
    public func acknowledgePush(
        _ batch: PushBatch, through: UInt64, rejected: [(collection: String, id: String, code: String, fields: [String], reason: String)],
        rejectedCount: Int, hubID: String, reusedDots: [RecordKey: Set<Dot>] = [:]
    ) async throws {
        try await writer.write { [clock] db in
            var metadata = try Self.requireMetadata(db)
            metadata.pushedThrough = max(metadata.pushedThrough, through)
            metadata.pushHistory = Self.progress(metadata).history(after: batch.header.id)
            metadata.lastPush = batch.header.id
            metadata.inflightPush = ""
            metadata.inflightThrough = 0
            if case .relay(let rowid) = batch.kind { metadata.relayCursor = rowid }
            try metadata.save(db)
            let now = clock()
            if rejected.contains(where: { $0.code == RecordRejection.Code.corruption.rawValue }) {
                metadata.dotReused = true
                try metadata.save(db)
            }
            // `reused-dot`: a dot of this id makes it take a new id at the next sync, like
            // `corruption`; other replicas' writes under reused dots go to the journal and are
            // written again under this id once it has pulled (this sync, or the next).
            if reusedDots.values.contains(where: { $0.contains { $0.replica == metadata.replica } }) {
                metadata.dotReused = true
                try metadata.save(db)
            }
            // A replica about to take a new id leaves other replicas' writes where they are:
            // taking a new id journals its own writes, and they would meet in the journal.
            // Refused again under the new id, they are taken then.
            for (key, dots) in reusedDots.sorted(by: { $0.key < $1.key }) where !metadata.dotReused {
                guard let state = try db.fetchState(collection: key.collection, id: key.id),
                    let (kept, taken) = try Incarnation.takeReused(state, dots: dots, key: key, own: metadata.replica)
                else { continue }
                let seq = try Int64.fetchOne(
                    db, cached: "SELECT seq FROM records WHERE collection = ? AND id = ?", arguments: [key.collection, key.id]) ?? 0
                if kept.fields.isEmpty {
                    try db.execute(cached: "DELETE FROM records WHERE collection = ? AND id = ?", arguments: [key.collection, key.id])
                } else {
                    try db.saveRecord(collection: key.collection, id: key.id, state: kept, seq: UInt64(bitPattern: seq))
                }
                try Self.addToJournal(db, taken)
            }
            var refused: [RecordKey: (code: String, fields: [String], reason: String)] = [:]
            for rejection in rejected {
                refused[RecordKey(collection: rejection.collection, id: rejection.id)] = (rejection.code, rejection.fields, rejection.reason)
            }
            let unlisted = rejectedCount > rejected.count
            let keep = try db.cachedStatement(sql: """
                INSERT INTO resend (collection, id, code, fields, reason, at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (collection, id) DO UPDATE SET code = excluded.code, fields = excluded.fields, reason = excluded.reason, at = excluded.at
                """)
            let drop = try db.cachedStatement(sql: "DELETE FROM resend WHERE collection = ? AND id = ?")
            let markAcked = try db.cachedStatement(sql: "UPDATE records SET acked = MAX(acked, ?) WHERE collection = ? AND id = ?")
            for record in batch.records {
                let key = RecordKey(collection: record.collection, id: record.id)
                if let refusal = refused[key] {
                    try keep.execute(arguments: [key.collection, key.id, refusal.code, refusal.fields.joined(separator: ","), refusal.reason, now])
                } else if unlisted {
                    try keep.execute(arguments: [key.collection, key.id, "unlisted", "", "", now])
                } else {
                    try drop.execute(arguments: [key.collection, key.id])
                    let own = record.state.context[metadata.replica]
                    try markAcked.execute(arguments: [Int64(bitPattern: min(own, Counters.maxCounter)), key.collection, key.id])
                }
            }
        }
    }

    /// The records waiting in the resend list, oldest first.
    public func pendingRejections() throws -> [PendingRejection] {
        try writer.read { db in try Self.pendingRejections(db) }
    }

    static func pendingRejections(_ db: Database) throws -> [PendingRejection] {
        try Row.fetchAll(db, cached: "SELECT collection, id, code, fields, reason, at FROM resend ORDER BY at, collection, id").map { row in
            PendingRejection(
                collection: row["collection"], id: row["id"], code: row["code"],
                fields: (row["fields"] as String).split(separator: ",").map(String.init), reason: row["reason"], at: row["at"])
        } + refusedWrites(db)
    }

    /// Local changes not yet acknowledged by the hub, and records waiting to be sent again.
    public func pendingCount() throws -> Int {
        try writer.read { db in try Self.totalPending(db) }
    }

    /// Merges a pulled batch and stores the new checkpoint in the same transaction: a
    /// process killed anywhere either has both or neither, so nothing is lost or skipped.
    ///
    /// Merging never changes a record's local sequence: a record written here and not yet
    /// pushed is still pushed, now with the merged state. A record that is not pending but
    /// holds more than the hub sent (the hub lost something this replica has) joins the
    /// resend list.
    public func applyPulled(_ records: [ReplicatedRecord], through: UInt64) async throws -> PullOutcome {
        if try namesWrites() {
            // The hub names this replica's writes: pulled states are named states.
            return try await applyNamedPull(records, through: through, actor: try metadata().checkpointActor)
        }
        return try await writer.write { [clock] db in
            var outcome = PullOutcome(changed: 0, newConflicts: 0)
            var metadata = try Self.requireMetadata(db)
            let lookup = try db.cachedStatement(sql: "SELECT state, seq, conflicted FROM records WHERE collection = ? AND id = ?")
            let resend = try db.cachedStatement(sql: "INSERT OR IGNORE INTO resend (collection, id, code, fields, at) VALUES (?, ?, 'hub-lacks', '', ?)")
            for record in records {
                let row = try Row.fetchOne(lookup, arguments: [record.collection, record.id])
                var state = record.state
                var seq: UInt64 = 0
                var wasConflicted = false
                if let row {
                    let local = try RecordState(json: row["state"])
                    seq = UInt64(bitPattern: row["seq"] as Int64)
                    wasConflicted = row["conflicted"]
                    let key = RecordKey(collection: record.collection, id: record.id)
                    let journaled = try Self.loadJournal(db, RecordKey(collection: record.collection, id: record.id))?.entries ?? [:]
                    switch try Incarnation.mergePulled(local, record.state, key: key, own: metadata.replica, journaled: journaled) {
                    case .ownDotReused:
                        // Another copy of this folder wrote under this id: take a new one now
                        // and pull everything again under it (the client reconnects).
                        _ = try Self.incarnate(db, &metadata, sharedThrough: 0)
                        try metadata.save(db)
                        outcome.newIdentity = true
                        return outcome
                    case .merged(let merged, let orphans):
                        state = merged
                        if let orphans { try Self.addToJournal(db, orphans) }
                    }
                    if state != record.state && seq <= metadata.pushedThrough {
                        try resend.execute(arguments: [record.collection, record.id, clock()])
                    }
                    if state == local { continue }
                }
                try db.saveRecord(collection: record.collection, id: record.id, state: state, seq: seq)
                outcome.changed += 1
                if state.isConflicted && !wasConflicted { outcome.newConflicts += 1 }
            }
            if through > metadata.checkpoint {
                metadata.checkpoint = through
                try metadata.save(db)
            }
            return outcome
        }
    }

    /// The replica's identity and sync progress, read without blocking a concurrency thread.
    public func loadMetadata() async throws -> ReplicaMetadata {
        try await writer.read { db in try Self.requireMetadata(db) }
    }

    /// What a TLS session learned of the hub's keys.
    public enum HubKeyChange: Sendable, Hashable {
        case none
        /// The hub announced the key it will switch to: trusted from now on, beside the pinned one.
        case learned(String)
        /// The hub presents the key it announced: pinned now, the old one forgotten.
        case switched(String)
    }

    /// Notes the key the hub `presented` (already checked against the pinned and next keys)
    /// and the next key it `announced` ("" when none).
    @discardableResult
    public func noteHubKeys(presented: String, announced: String) async throws -> HubKeyChange {
        try await writer.write { db in
            var metadata = try Self.requireMetadata(db)
            guard !metadata.insecure else { return .none }
            var change = HubKeyChange.none
            if !metadata.hubNextKey.isEmpty, presented == metadata.hubNextKey, presented != metadata.hubKey {
                metadata.hubKey = presented
                metadata.hubNextKey = ""
                change = .switched(presented)
            }
            guard presented == metadata.hubKey else { return .none }
            let next = announced == metadata.hubKey ? "" : announced
            if next != metadata.hubNextKey {
                metadata.hubNextKey = next
                if case .none = change, !next.isEmpty { change = .learned(next) }
            }
            try metadata.save(db)
            return change
        }
    }

    public func countPending() async throws -> Int {
        try await writer.read { db in try Self.totalPending(db) }
    }

    public func loadRejections() async throws -> [PendingRejection] {
        try await writer.read { db in try Self.pendingRejections(db) }
    }

    /// Local changes not yet acknowledged, plus records waiting to be sent again; in a
    /// replica whose writes the hub names, the writes it has not named.
    static func totalPending(_ db: Database) throws -> Int {
        try pendingCount(db, after: requireMetadata(db).pushedThrough)
            + (Int.fetchOne(db, cached: "SELECT COUNT(*) FROM resend") ?? 0)
            + unnamedCount(db)
    }

    /// The keys of the resend list, oldest first.
    public func resendKeys() async throws -> [RecordKey] {
        try await writer.read { db in
            try Row.fetchAll(db, cached: "SELECT collection, id FROM resend ORDER BY at, collection, id").map {
                RecordKey(collection: $0["collection"], id: $0["id"])
            }
        }
    }

    /// Records the time of a completed sync.
    public func recordSync(at time: Int64) async throws {
        try await writer.write { db in
            var metadata = try Self.requireMetadata(db)
            metadata.lastSync = time
            try metadata.save(db)
        }
    }
}
