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
    ///
    /// In re-seed mode (`reseed`: a hub rebuilt without its key, so no voucher can be
    /// checked) a state without a valid voucher is taken on the relayer's word, within its
    /// token's write rights and the catalogue's rules, as a push would be.
    public func relay(_ records: [ReplicatedRecord], from replica: ReplicaID, reseed: Bool = false) async throws -> RelayResult {
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
                let relayedTags = record.tags ?? [:]
                let expected = Self.voucher(
                    key: key, collection: record.collection, id: record.id, stateJSON: record.state.compactJSON,
                    tagsJSON: RecordTags.json(relayedTags))
                let vouched = record.voucher.map { Self.constantTimeEqual($0, expected) } ?? false
                guard vouched || reseed else {
                    refuse(record, RecordRejection(
                        .unvouched, "the record's voucher is not this hub's for that state; a relay sends back states exactly as this hub served them"))
                    continue
                }
                // Tags from a vouched state; in re-seed mode also from an unvouched one, for the
                // writes this file lost (dots of no run it holds) that the state carries: the
                // relayer is trusted with those already, and without their tags a write a copied
                // folder sends again would be held twice. Never for this file's own runs: a
                // made-up tag could tie another's write to a dot that is not its own, and that
                // write would then never be stored.
                let tags = vouched ? relayedTags : try Self.lostWriteTags(db, relayedTags, in: record.state, by: token)
                var relayed = record.state
                // Learned once the record is taken (or, vouched, found held already): a
                // refused state teaches nothing.
                var learned: [(tag: String, dot: Dot)] = []
                for (dot, tag) in tags.sorted(by: { $0.key < $1.key }) {
                    if let known = try Row.fetchOne(db, cached: "SELECT actor, counter FROM writes WHERE tag = ?", arguments: [tag]) {
                        let named = Dot(replica: try ReplicaID(known["actor"] as String), counter: UInt64(bitPattern: known["counter"] as Int64))
                        // The same write, named again here after the restore (a copy pushed it
                        // first): its relayed entry goes, its dot stays as seen — held once.
                        if named != dot { relayed = try relayed.droppingEntries(of: dot) }
                        continue
                    }
                    learned.append((tag, dot))
                }
                func learn() throws {
                    for (tag, dot) in learned {
                        let entry = relayed.fields.values.joined().first { $0.dot == dot }
                        try db.execute(
                            cached: """
                                INSERT OR IGNORE INTO writes (tag, actor, counter, collection, id, token, author, time, entered_at, entered_by, digest)
                                VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, NULL, NULL)
                                """,
                            arguments: [
                                tag, dot.replica.rawValue, Int64(bitPattern: min(dot.counter, Counters.maxCounter)), record.collection, record.id,
                                entry?.author ?? "", entry?.time ?? 0, entry?.time ?? 0,
                            ])
                    }
                }
                let stored = try db.fetchState(collection: record.collection, id: record.id)
                let merged: RecordState
                do {
                    merged = try stored.map { try $0.merging(relayed) } ?? relayed
                } catch {
                    // One dot holding two writes (only a made-up state can): this record is
                    // refused, the session goes on.
                    refuse(record, RecordRejection(.corruption, "the state does not merge with what the hub holds: \((error as? MufakatError)?.message ?? "\(error)")"))
                    continue
                }
                if merged == stored {
                    if vouched { try learn() }
                    result.unchanged += 1
                    continue
                }
                let keepsInHouse = schema.inHouse != nil
                let inHouseBefore = stored == nil || !keepsInHouse ? nil : try Self.inHouse(db, collection: record.collection, id: record.id)
                if !vouched, let rejection = Self.reseedRefusal(
                    db, record: record, schema: schema, stored: stored, merged: merged, token: token, inHouse: inHouseBefore)
                {
                    refuse(record, rejection)
                    continue
                }
                try learn()
                sequence += 1
                try db.saveRecord(collection: record.collection, id: record.id, state: merged, seq: sequence, origin: nil)
                let inHouse = try Self.storeInHouse(db, record: record, stored: stored, merged: merged, current: inHouseBefore)
                try Self.appendAudit(
                    db, seq: sequence, token: token, replica: replica.rawValue, collection: record.collection, id: record.id,
                    inHouse: inHouse, inHouseBefore: inHouseBefore, before: stored, after: merged, time: now)
                try Self.noteHeld(db, record.state.context)
                let storedTags = try Self.tags(db, collection: record.collection, id: record.id)
                try Self.saveTags(
                    db, collection: record.collection, id: record.id,
                    RecordTags.pruned(storedTags.merging(tags) { kept, _ in kept }, to: merged))
                result.merged += 1
            }
            try db.execute(cached: "UPDATE meta SET value = ? WHERE key = 'seq'", arguments: [String(sequence)])
            try db.execute(cached: "UPDATE replicas SET last_seen = ? WHERE replica = ?", arguments: [now, replica.rawValue])
            result.sequence = sequence
            return result
        }
    }

    /// Of an unvouched relayed state's tags (re-seed mode), those of entries the state holds
    /// under dots of no run this hub file holds — writes named before the hub was rebuilt —
    /// and written by the relaying token itself (its copy of a folder sends them again): a
    /// relayer cannot tie another member's write to a dot of its choosing.
    static func lostWriteTags(_ db: Database, _ tags: [Dot: String], in state: RecordState, by token: TokenInfo?) throws -> [Dot: String] {
        guard !tags.isEmpty, let token else { return [:] }
        let own = authorStamp(token)
        let runs = Set(try String.fetchAll(db, cached: "SELECT actor FROM incarnations"))
        let dots = Set(state.fields.values.joined().filter { $0.author == own }.map(\.dot))
        return tags.filter { dot, _ in dots.contains(dot) && !runs.contains(dot.replica.rawValue) }
    }

    /// Why re-seed mode refuses an unvouched relayed state: values the catalogue refuses,
    /// the relayer's write rights, the record rules; `nil` when it may be stored.
    static func reseedRefusal(
        _ db: Database, record: ReplicatedRecord, schema: CollectionSchema, stored: RecordState?, merged: RecordState, token: TokenInfo?,
        inHouse: String?
    ) -> RecordRejection? {
        if RecordIDs.problem(with: record.id) != nil {
            return RecordRejection(.invalid, "the id is not valid: 1 to \(RecordIDs.maxLength) letters, digits and - _ . : + @")
        }
        // Re-seed trusts the relayer for writes this file lost, never for its own runs: a
        // dot of a run this file holds, beyond what that run issued, is made up.
        for (actor, counter) in record.state.context.counters {
            if counter > Counters.maxCounter {
                return RecordRejection(.counterBeyond, "a context counter is above \(Counters.maxCounter)")
            }
            if let issued = try? Int64.fetchOne(db, cached: "SELECT counter FROM incarnations WHERE actor = ?", arguments: [actor.rawValue]),
                counter > UInt64(bitPattern: issued)
            {
                return RecordRejection(.counterBeyond, "the state claims writes of this hub's run \(actor) up to \(counter), beyond the \(issued) it issued")
            }
        }
        let problems = schema.problems(in: merged, newerThan: stored?.context ?? VersionVector())
        if !problems.isEmpty { return RecordRejection(values: problems, collection: schema.name) }
        if let token {
            if !Visibility(token.writer).admits(inHouse) {
                return RecordRejection(.forbidden, "the token's organization may not write this record")
            }
            if let refusal = WriteRights.refusal(
                writer: token.writer, schema: schema, id: record.id, before: stored, after: merged,
                organizationTypes: { (try? HubStore.organizationTypes(db, $0)) ?? [] })
            {
                return RecordRejection(refusal)
            }
        }
        return CatalogueRules.check(record, stored: stored, merged: merged)
    }

    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
