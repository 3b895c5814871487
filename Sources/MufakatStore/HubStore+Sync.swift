import GRDB
import MufakatCore

/// What the hub did with one pushed batch.
public struct PushResult: Sendable, Hashable {
    /// Records whose stored state changed (each got a new hub sequence number).
    public var accepted: Int
    /// Records the hub already held exactly: a resend after a cut connection.
    public var unchanged: Int
    public var rejected: [Rejection]
    /// The hub sequence after the batch.
    public var sequence: UInt64

    /// A record refused, with a stable code (`invalid`, `forged-dot`, `corruption`).
    public struct Rejection: Sendable, Hashable {
        public var collection: String
        public var id: String
        public var code: String
        public var message: String
    }
}

/// A batch of the changes feed.
public struct ChangeBatch: Sendable, Hashable {
    public var records: [ReplicatedRecord]
    /// The new checkpoint for the client.
    public var through: UInt64
    public var more: Bool
}

extension HubStore {
    /// Validates and merges a pushed batch in one transaction.
    ///
    /// A record is refused — and the rest of the batch still applied — when its collection,
    /// id, fields or values are not what the catalogue accepts (`invalid`), when it carries
    /// writes of another replica that the hub has not seen (`forged-dot`: only a replica
    /// may introduce its own writes), or when it holds a write the hub holds with different
    /// contents (`corruption`). Each record whose stored state changes gets the next hub
    /// sequence number; `origin` remembers the pusher when the stored state is exactly what
    /// it sent, so its next pull skips it.
    public func applyPush(_ records: [ReplicatedRecord], from replica: ReplicaID) async throws -> PushResult {
        try await writer.write { [clock] db in
            var sequence = try Self.sequence(db)
            var result = PushResult(accepted: 0, unchanged: 0, rejected: [], sequence: sequence)
            var highestCounter: UInt64 = 0
            for record in records {
                func reject(_ code: String, _ message: String) {
                    result.rejected.append(.init(collection: record.collection, id: record.id, code: code, message: message))
                }
                guard let schema = try? Catalogue.collection(named: record.collection), schema.name == record.collection else {
                    reject("invalid", "unknown collection '\(record.collection)'; the collections are \(Catalogue.collectionNames.joined(separator: ", "))")
                    continue
                }
                if let problem = RecordIDs.problem(with: record.id) {
                    reject("invalid", problem)
                    continue
                }
                let problems = schema.problems(in: record.state)
                guard problems.isEmpty else {
                    reject("invalid", problems.map(\.description).joined(separator: "; "))
                    continue
                }
                let stored = try db.fetchState(collection: record.collection, id: record.id)
                let known = stored?.context ?? VersionVector()
                let foreign = record.state.context.counters.filter { $0.key != replica && $0.value > known[$0.key] }
                guard foreign.isEmpty else {
                    let names = foreign.keys.sorted().map(\.rawValue).joined(separator: ", ")
                    reject("forged-dot", "carries writes of replica \(names) that the hub has not seen; a replica may only send its own new writes")
                    continue
                }
                highestCounter = max(highestCounter, record.state.context[replica])
                let merged: RecordState
                do {
                    merged = try stored.map { try $0.merging(record.state) } ?? record.state
                } catch let error as MufakatError {
                    reject(error.code.rawValue, error.message)
                    continue
                }
                if merged == stored {
                    result.unchanged += 1
                    continue
                }
                sequence += 1
                try db.saveRecord(
                    collection: record.collection, id: record.id, state: merged, seq: sequence,
                    origin: merged == record.state ? replica.rawValue : nil)
                result.accepted += 1
            }
            try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'seq'", arguments: [String(sequence)])
            try db.execute(
                sql: "UPDATE replicas SET counter = MAX(counter, ?), last_seen = ? WHERE replica = ?",
                arguments: [Int64(bitPattern: highestCounter), clock(), replica.rawValue])
            result.sequence = sequence
            return result
        }
    }

    /// The changes after `since`, in hub-sequence order — at most `limit` records and about
    /// `maxBytes` of state text — leaving out records whose stored state came exactly from
    /// `replica`'s own push.
    public func changes(since: UInt64, limit: Int, maxBytes: Int = 4 << 20, for replica: ReplicaID) async throws -> ChangeBatch {
        try await writer.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT collection, id, state, seq, origin FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [Int64(bitPattern: since), limit])
            var records: [ReplicatedRecord] = []
            var through = since
            var bytes = 0
            while let row = try rows.next() {
                through = UInt64(bitPattern: row["seq"] as Int64)
                if (row["origin"] as String?) == replica.rawValue { continue }
                let json: String = row["state"]
                records.append(ReplicatedRecord(collection: row["collection"], id: row["id"], state: try RecordState(json: json)))
                bytes += json.utf8.count
                if bytes >= maxBytes { break }
            }
            let more = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM records WHERE seq > ? LIMIT 1", arguments: [Int64(bitPattern: through)]) ?? false
            return ChangeBatch(records: records, through: through, more: more)
        }
    }

    /// Records, conflicts and sequence for `mufakat-hub status`.
    public func summary() throws -> (records: Int, deleted: Int, conflicted: Int, sequence: UInt64) {
        try writer.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS n, COALESCE(SUM(deleted), 0) AS d, COALESCE(SUM(conflicted), 0) AS c FROM records
                """)!
            return (row["n"], row["d"], row["c"], try Self.sequence(db))
        }
    }

    /// Every conflicted record on the hub, by collection and id.
    public func conflicts() throws -> [RecordView] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT collection, id, state FROM records WHERE conflicted = 1 ORDER BY collection, id").map { row in
                let state = try RecordState(json: row["state"])
                return RecordView(
                    collection: row["collection"], id: row["id"], document: state.document, deleted: state.isDeleted,
                    conflicts: state.conflicts)
            }
        }
    }
}
