import Foundation
import GRDB
import MufakatCore
import MufakatSync

/// What the hub did with one pushed batch.
public struct PushResult: Sendable, Hashable {
    /// Records whose stored state changed (each got a new hub sequence number).
    public var accepted: Int
    /// Records the hub already held exactly: a resend after a cut connection.
    public var unchanged: Int
    public var rejected: [Rejection]
    /// The hub sequence after the batch.
    public var sequence: UInt64

    /// A record refused: where it is, and the rule's code and fields (never its values).
    public struct Rejection: Sendable, Hashable {
        public var collection: String
        public var id: String
        public var rejection: RecordRejection
    }
}

/// A batch of the changes feed.
public struct ChangeBatch: Sendable, Hashable {
    /// The records' canonical lines, built from the stored state text without decoding it.
    public var lines: [String]
    /// The new checkpoint for the client.
    public var through: UInt64
    public var more: Bool
}

extension HubStore {
    /// What the hub remembers of `replica` (all zero for an id it never heard of).
    public func ledger(for replica: String) async throws -> LedgerEntry {
        try await writer.read { db in try Self.ledger(db, replica: replica) }
    }

    static func ledger(_ db: Database, replica: String) throws -> LedgerEntry {
        guard let row = try Row.fetchOne(
            db, cached: "SELECT counter, through, push, served, recent FROM ledger WHERE replica = ?", arguments: [replica])
        else { return .empty }
        let recent: [PushMark]
        do {
            recent = try JSONDecoder().decode([PushMark].self, from: Data((row["recent"] as String).utf8))
        } catch {
            throw MufakatError(.corruption, "the hub's ledger of replica \(replica) holds an unreadable push history: \(error)")
        }
        return LedgerEntry(
            counter: UInt64(bitPattern: row["counter"] as Int64), through: UInt64(bitPattern: row["through"] as Int64),
            push: row["push"], served: UInt64(bitPattern: row["served"] as Int64), recent: recent)
    }

    static func saveLedger(_ db: Database, replica: String, _ entry: LedgerEntry) throws {
        let recent = String(decoding: try JSONEncoder().encode(entry.recent), as: UTF8.self)
        try db.execute(
            cached: """
                INSERT INTO ledger (replica, counter, through, push, served, recent) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (replica) DO UPDATE SET counter = excluded.counter, through = excluded.through,
                    push = excluded.push, served = excluded.served, recent = excluded.recent
                """,
            arguments: [
                replica, Int64(bitPattern: entry.counter), Int64(bitPattern: entry.through), entry.push,
                Int64(bitPattern: entry.served), recent,
            ])
    }

    /// Checks a push against the ledger, then validates and merges the batch, and records
    /// the acknowledgement — all in one transaction, synced to disk before it returns.
    ///
    /// The whole push is refused (``PushRefusal``) when it does not follow the hub's last
    /// acknowledged push of that replica id, or declares an impossible counter. Otherwise
    /// each record goes through ``PushRules/admit(_:stored:pusher:counter:catalogue:)``: a refused
    /// record is listed and the rest still applied. Each record whose stored state changes
    /// gets the next hub sequence number; `origin` remembers the pusher when the stored
    /// state is exactly what it sent, so its next pull skips it.
    public func applyPush(
        _ records: [ReplicatedRecord], header: PushHeader, from replica: ReplicaID, rules: PushRules = PushRules()
    ) async throws -> Result<PushResult, PushRefusal> {
        try await writer.write { [clock] db in
            var ledger = try Self.ledger(db, replica: replica.rawValue)
            if let refusal = ledger.refusal(of: header) { return .failure(refusal) }
            var sequence = try Self.sequence(db)
            var result = PushResult(accepted: 0, unchanged: 0, rejected: [], sequence: sequence)
            // Relayed writes raise the ledger of the replicas they name, so a replica whose
            // writes were relayed with counters it never used notices and takes a new id.
            var relayed: [ReplicaID: UInt64] = [:]
            var knownCounters: [ReplicaID: UInt64] = [:]
            // The token's role and organisation as they are now: a role changed by the
            // operator counts from the next push.
            let token = try Self.token(db, replica: replica.rawValue)
            let now = clock()
            let visibility = token.map { Visibility($0.writer) } ?? .everything
            for record in records {
                var stored = try db.fetchState(collection: record.collection, id: record.id)
                // Only collections with an in-house rule keep records in-house: no lookup for the rest.
                let keepsInHouse = (try? Catalogue.collection(named: record.collection).inHouse) != nil
                let inHouseBefore = stored == nil || !keepsInHouse ? nil : try Self.inHouse(db, collection: record.collection, id: record.id)
                // A record kept in-house by another organisation is, to this pusher, one the hub
                // does not hold: judged as new, so the answer tells nothing of it. Nobody who may
                // not receive it may create it either, so it is never stored from such a push.
                let hidden = stored != nil && !visibility.admits(inHouseBefore)
                if hidden { stored = nil }
                let owners = try db.dotOwners(of: record.state, stored: stored)
                var admission = rules.admit(
                    record, stored: stored, pusher: replica, counter: header.counter, catalogue: true, writer: token?.writer,
                    organizationTypes: { (try? Self.organizationTypes(db, $0)) ?? [] }, owner: { owners[$0] })
                if hidden, case .store = admission {
                    admission = .reject(RecordRejection(.forbidden, "the token's organization may not write this record"))
                }
                switch admission {
                case .reject(let rejection):
                    result.rejected.append(.init(collection: record.collection, id: record.id, rejection: rejection))
                case .unchanged:
                    result.unchanged += 1
                case .store(let merged):
                    sequence += 1
                    try db.saveRecord(
                        collection: record.collection, id: record.id, state: merged, seq: sequence,
                        origin: merged == record.state ? replica.rawValue : nil)
                    let inHouse = try Self.storeInHouse(db, record: record, stored: stored, merged: merged, current: inHouseBefore)
                    try Self.appendAudit(
                        db, seq: sequence, token: token, replica: replica.rawValue, collection: record.collection, id: record.id,
                        inHouse: inHouse, inHouseBefore: inHouseBefore, before: stored, after: merged, time: now)
                    // Relayed dots (re-seed mode) enter the index only as far as the hub knew
                    // their replica had written before this push: a relayer cannot claim
                    // another replica's future dots for records of its choosing.
                    try db.indexDots(of: merged, previous: stored, collection: record.collection, id: record.id) { dot in
                        guard rules.relay, dot.replica != replica else { return true }
                        if let known = knownCounters[dot.replica] { return dot.counter <= known }
                        let known = try Self.ledger(db, replica: dot.replica.rawValue).counter
                        knownCounters[dot.replica] = known
                        return dot.counter <= known
                    }
                    result.accepted += 1
                    if rules.relay {
                        for (other, counter) in record.state.context.counters where other != replica {
                            relayed[other] = max(relayed[other] ?? 0, counter)
                        }
                    }
                }
            }
            try db.execute(cached: "UPDATE meta SET value = ? WHERE key = 'seq'", arguments: [String(sequence)])
            ledger = ledger.acknowledging(header)
            try Self.saveLedger(db, replica: replica.rawValue, ledger)
            for (other, counter) in relayed {
                var entry = try Self.ledger(db, replica: other.rawValue)
                guard counter > entry.counter else { continue }
                entry.counter = counter
                try Self.saveLedger(db, replica: other.rawValue, entry)
            }
            try db.execute(cached: "UPDATE replicas SET last_seen = ? WHERE replica = ?", arguments: [clock(), replica.rawValue])
            result.sequence = sequence
            return .success(result)
        }
    }

    /// The changes after `since`, in hub-sequence order — at most `limit` records and about
    /// `maxBytes` of state text — leaving out records whose stored state came exactly from
    /// `replica`'s own push. Before returning, the ledger notes how far `replica` was served,
    /// so a replica whose checkpoint is beyond it later knows the hub was rewound.
    ///
    /// Lines are in `form`: the compact form the hub stores is served as stored, without
    /// decoding; a version 2 session gets the expanded text copied out of it.
    ///
    /// With `vouchers` (protocol 5) each line carries the hub's voucher for its state, and
    /// records whose last change was one of the `skip` write batches, every write of it
    /// answered `exact`, are left out: the replica holds them already.
    public func changes(
        since: UInt64, limit: Int, maxBytes: Int = 4 << 20, for replica: ReplicaID, form: RecordForm = .compact,
        vouchers: Bool = false, skip: Set<String> = []
    ) async throws -> ChangeBatch {
        let skippedOrigins = Set(skip.map { "push:" + $0 })
        let batch = try await writer.read { db in
            let key = vouchers ? try Self.voucherKey(db) : nil
            // Records kept in-house by another organisation are passed over like the
            // replica's own: the checkpoint moves past them, and the record comes with its
            // next change once published.
            let visibility = try Self.token(db, replica: replica.rawValue).map { Visibility($0.writer) } ?? .everything
            let rows = try Row.fetchCursor(
                db, sql: "SELECT collection, id, state, seq, origin, inhouse, tags FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [Int64(bitPattern: min(since, Counters.maxCounter)), limit])
            var lines: [String] = []
            var through = since
            var bytes = 0
            while let row = try rows.next() {
                through = UInt64(bitPattern: row["seq"] as Int64)
                let origin: String? = row["origin"]
                if origin == replica.rawValue || !visibility.admits(row["inhouse"]) { continue }
                if let origin, skippedOrigins.contains(origin) { continue }
                // The hub stores states in canonical compact form (it wrote them): served as
                // they are to a version 3 session. A state an older hub wrote into this file
                // after it was upgraded (a hub rolled back for a while) is written again.
                var json: String = row["state"]
                if form == .expanded {
                    json = try CompactTranscoder.expandedJSON(stored: json)
                } else if !RecordForm.isCompact(stateJSON: json) {
                    json = try RecordState(json: json).compactJSON
                }
                let collection: String = row["collection"]
                let id: String = row["id"]
                // Protocol 5: the writes' tags and the voucher over state and tags (§13.4, §13.5).
                let tagsJSON: String? = key == nil ? nil : (row["tags"] as String?) ?? "{}"
                let voucher = key.map { Self.voucher(key: $0, collection: collection, id: id, stateJSON: json, tagsJSON: tagsJSON ?? "{}") }
                lines.append(ReplicatedRecord.line(collection: collection, id: id, stateJSON: json, voucher: voucher, tagsJSON: tagsJSON))
                bytes += json.utf8.count
                if bytes >= maxBytes { break }
            }
            let more = try Bool.fetchOne(
                db, cached: "SELECT 1 FROM records WHERE seq > ? LIMIT 1", arguments: [Int64(bitPattern: min(through, Counters.maxCounter))]) ?? false
            // A checkpoint beyond the feed (a hub restored from an older copy) gets the
            // hub's own sequence back, never a number the hub has not reached.
            if !more { through = min(through, try Self.sequence(db)) }
            return ChangeBatch(lines: lines, through: through, more: more)
        }
        try await writer.write { db in
            var entry = try Self.ledger(db, replica: replica.rawValue)
            guard batch.through > entry.served else { return }
            entry.served = batch.through
            try Self.saveLedger(db, replica: replica.rawValue, entry)
        }
        return batch
    }

    /// Sets the organisation a just-stored record stays with (its collection's
    /// ``InHouseRule``), and returns it: `nil` once published. A record the hub held
    /// published stays published; a new or in-house one is published when its merged state
    /// leaves the rule.
    static func storeInHouse(
        _ db: Database, record: ReplicatedRecord, stored: RecordState?, merged: RecordState, current: String?
    ) throws -> String? {
        guard let rule = try? Catalogue.collection(named: record.collection).inHouse else { return nil }
        if stored != nil, current == nil { return nil }
        let inHouse = rule.organization(of: merged)
        // A new record is stored published (NULL): written again only when that changes.
        if inHouse != current {
            try db.execute(
                cached: "UPDATE records SET inhouse = ? WHERE collection = ? AND id = ?", arguments: [inHouse, record.collection, record.id])
        }
        return inHouse
    }

    /// The organisation a stored record stays with, `nil` when published.
    static func inHouse(_ db: Database, collection: String, id: String) throws -> String? {
        try String.fetchOne(db, cached: "SELECT inhouse FROM records WHERE collection = ? AND id = ?", arguments: [collection, id])
    }

    /// Records, conflicts and sequence for `mufakat-hub status`.
    public func summary() throws -> (records: Int, deleted: Int, conflicted: Int, sequence: UInt64) {
        try writer.read { db in
            let row = try Row.fetchOne(db, cached: """
                SELECT COUNT(*) AS n, COALESCE(SUM(deleted), 0) AS d, COALESCE(SUM(conflicted), 0) AS c FROM records
                """)!
            return (row["n"], row["d"], row["c"], try Self.sequence(db))
        }
    }

    /// Every conflicted record on the hub, by collection and id.
    public func conflicts() throws -> [RecordView] {
        try writer.read { db in
            try Row.fetchAll(db, cached: "SELECT collection, id, state FROM records WHERE conflicted = 1 ORDER BY collection, id").map { row in
                let state = try RecordState(json: row["state"])
                return RecordView(
                    collection: row["collection"], id: row["id"], document: state.document, deleted: state.isDeleted,
                    conflicts: state.conflicts)
            }
        }
    }
}
