import GRDB
import MufakatCore

/// What merging a pulled batch did.
public struct PullOutcome: Sendable, Hashable {
    /// Records whose local state changed.
    public var changed: Int
    /// Records that were not conflicted before and are now.
    public var newConflicts: Int
}

extension ReplicaStore {
    /// The next batch to push: records written locally after the last acknowledged push,
    /// in local-sequence order, and the sequence of the last one (the `through` to send).
    ///
    /// Records only ever received from the hub have sequence 0 and are never pushed back.
    public func pendingPush(limit: Int, maxBytes: Int = 4 << 20) throws -> (records: [ReplicatedRecord], through: UInt64)? {
        try writer.read { db in
            let metadata = try Self.requireMetadata(db)
            let rows = try Row.fetchCursor(
                db, sql: "SELECT collection, id, state, seq FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [Int64(bitPattern: metadata.pushedThrough), limit])
            var records: [ReplicatedRecord] = []
            var through: UInt64 = 0
            var bytes = 0
            while let row = try rows.next() {
                let json: String = row["state"]
                records.append(ReplicatedRecord(collection: row["collection"], id: row["id"], state: try RecordState(json: json)))
                through = UInt64(bitPattern: row["seq"] as Int64)
                bytes += json.utf8.count
                if bytes >= maxBytes { break }
            }
            return records.isEmpty ? nil : (records, through)
        }
    }

    /// Local changes not yet acknowledged by the hub.
    public func pendingCount() throws -> Int {
        try writer.read { db in
            try Self.pendingCount(db, after: Self.requireMetadata(db).pushedThrough)
        }
    }

    /// Records that the hub stored everything up to local sequence `through`.
    public func acknowledgePush(through: UInt64) throws {
        try writer.write { db in
            var metadata = try Self.requireMetadata(db)
            guard through > metadata.pushedThrough else { return }
            metadata.pushedThrough = through
            try metadata.save(db)
        }
    }

    /// Merges a pulled batch and stores the new checkpoint in the same transaction: a
    /// process killed anywhere either has both or neither, so nothing is lost or skipped.
    ///
    /// Merging never changes a record's local sequence: a record written here and not yet
    /// pushed is still pushed, now with the merged state.
    public func applyPulled(_ records: [ReplicatedRecord], through: UInt64) throws -> PullOutcome {
        try writer.write { db in
            var outcome = PullOutcome(changed: 0, newConflicts: 0)
            let lookup = try db.cachedStatement(sql: "SELECT state, seq, conflicted FROM records WHERE collection = ? AND id = ?")
            for record in records {
                let row = try Row.fetchOne(lookup, arguments: [record.collection, record.id])
                var state = record.state
                var seq: UInt64 = 0
                var wasConflicted = false
                if let row {
                    let local = try RecordState(json: row["state"])
                    state = try local.merging(record.state)
                    seq = UInt64(bitPattern: row["seq"] as Int64)
                    wasConflicted = row["conflicted"]
                    if state == local { continue }
                }
                try db.saveRecord(collection: record.collection, id: record.id, state: state, seq: seq)
                outcome.changed += 1
                if state.isConflicted && !wasConflicted { outcome.newConflicts += 1 }
            }
            var metadata = try Self.requireMetadata(db)
            if through > metadata.checkpoint {
                metadata.checkpoint = through
                try metadata.save(db)
            }
            return outcome
        }
    }

    /// Notes the hub this replica syncs with. A replica that meets a different hub (a hub
    /// rebuilt from scratch) starts its checkpoints over: it pushes again every record it
    /// wrote itself and pulls everything — merging makes the resend harmless.
    public func bind(hubID: String) throws {
        try writer.write { db in
            var metadata = try Self.requireMetadata(db)
            guard metadata.hubID != hubID else { return }
            if !metadata.hubID.isEmpty {
                metadata.checkpoint = 0
                metadata.pushedThrough = 0
            }
            metadata.hubID = hubID
            try metadata.save(db)
        }
    }

    /// The counter guard: raises the replica's counter to at least `counter`, the highest
    /// the hub has seen from it. A replica restored from an old backup would otherwise reuse
    /// counters that already name other writes.
    @discardableResult
    public func raiseCounter(atLeast counter: UInt64) throws -> Bool {
        try writer.write { db in
            var metadata = try Self.requireMetadata(db)
            guard counter > metadata.counter else { return false }
            metadata.counter = counter
            try metadata.save(db)
            return true
        }
    }

    /// Records the time of a completed sync.
    public func recordSync(at time: Int64) throws {
        try writer.write { db in
            var metadata = try Self.requireMetadata(db)
            metadata.lastSync = time
            try metadata.save(db)
        }
    }
}
