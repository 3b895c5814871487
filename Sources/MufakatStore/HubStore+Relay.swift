import Foundation
import GRDB
import MufakatCore
import MufakatSync

/// What a `relay` did (protocol 5, PROTOCOL.md §13.4).
public struct RelayResult: Sendable, Hashable {
    public var merged: Int
    public var unchanged: Int
    public var rejected: [PushResult.Rejection]
    public var sequence: UInt64
}

extension HubStore {
    /// Takes back record states a replica got from this hub and the hub no longer holds (it
    /// was restored from a backup): each merged with what the hub holds, if and only if its
    /// voucher is this hub's for exactly that state. A relayer cannot make up a write, change
    /// a value or claim another's name: anything but a state the hub vouched for is refused
    /// (`unvouched`), and a state the hub holds already changes nothing.
    ///
    /// One transaction, synced to disk before it returns. Actors of the merged contexts the
    /// hub did not issue in this file (its runs lost with the restore) are noted as held, so
    /// writes made on top of them are named, not refused as `counter-beyond`.
    public func relay(_ records: [ReplicatedRecord], from replica: ReplicaID) async throws -> RelayResult {
        try await writer.write { [clock] db in
            let key = try Self.voucherKey(db)
            var sequence = try Self.sequence(db)
            var result = RelayResult(merged: 0, unchanged: 0, rejected: [], sequence: sequence)
            let token = try Self.token(db, replica: replica.rawValue)
            let now = clock()
            func refuse(_ record: ReplicatedRecord, _ rejection: RecordRejection) {
                result.rejected.append(.init(collection: record.collection, id: record.id, rejection: rejection))
            }
            for record in records {
                guard let schema = try? Catalogue.collection(named: record.collection), schema.name == record.collection else {
                    refuse(record, RecordRejection(.invalid, "unknown collection; the collections are \(Catalogue.collectionNames.joined(separator: ", "))"))
                    continue
                }
                if let refusal = record.refusal {
                    refuse(record, RecordRejection(.invalid, fields: refusal.field.map { [$0] } ?? [], "a number out of its range: \(refusal.reason)"))
                    continue
                }
                let expected = Self.voucher(key: key, collection: record.collection, id: record.id, stateJSON: record.state.compactJSON)
                guard let voucher = record.voucher, Self.constantTimeEqual(voucher, expected) else {
                    refuse(record, RecordRejection(
                        .unvouched, "the record's voucher is not this hub's for that state; a relay sends back states exactly as this hub served them"))
                    continue
                }
                let stored = try db.fetchState(collection: record.collection, id: record.id)
                let merged = try stored.map { try $0.merging(record.state) } ?? record.state
                if merged == stored {
                    result.unchanged += 1
                    continue
                }
                let keepsInHouse = schema.inHouse != nil
                let inHouseBefore = stored == nil || !keepsInHouse ? nil : try Self.inHouse(db, collection: record.collection, id: record.id)
                sequence += 1
                try db.saveRecord(collection: record.collection, id: record.id, state: merged, seq: sequence, origin: nil)
                let inHouse = try Self.storeInHouse(db, record: record, stored: stored, merged: merged, current: inHouseBefore)
                try Self.appendAudit(
                    db, seq: sequence, token: token, replica: replica.rawValue, collection: record.collection, id: record.id,
                    inHouse: inHouse, inHouseBefore: inHouseBefore, before: stored, after: merged, time: now)
                try Self.noteHeld(db, record.state.context)
                result.merged += 1
            }
            try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'seq'", arguments: [String(sequence)])
            try db.execute(sql: "UPDATE replicas SET last_seen = ? WHERE replica = ?", arguments: [now, replica.rawValue])
            result.sequence = sequence
            return result
        }
    }

    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
