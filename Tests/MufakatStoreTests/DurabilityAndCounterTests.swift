import Foundation
import GRDB
import MufakatCore
import MufakatSync
import MufakatTesting
import Testing
@testable import MufakatStore

/// Counters at their edge are a replica of 0.7's (its own counter names its writes); a
/// replica whose writes the hub names has no counter to run out.
@Suite("Durability and counters at the edge")
struct DurabilityAndCounterTests {
    @Test("the hub's and the replica's writer connections sync every commit to disk (synchronous = FULL)")
    func synchronousFull() throws {
        let directory = try TemporaryDirectory("mufakat-durability")
        let hub = try HubStore.open(directory: directory.path("hub"))
        #expect(try hub.writerSynchronous() == 2)
        let replica = try ReplicaStore.create(at: directory.path("replica.sqlite"), hub: "h:1", token: "t", name: "A")
        #expect(try replica.writerSynchronous() == 2)
        // Still FULL after a write went through the pool.
        try replica.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
        #expect(try replica.writerSynchronous() == 2)
    }

    @Test("a new hub's file holds its id and voucher key without its WAL: a copy of hub.sqlite alone still vouches the same")
    func newHubIdentityInFile() async throws {
        let directory = try TemporaryDirectory("mufakat-identity")
        let hub = try HubStore.open(directory: directory.path("hub"))
        let file = directory.path("hub/\(HubStore.fileName)")
        let copy = directory.path("copy/\(HubStore.fileName)")
        try FileManager.default.createDirectory(atPath: directory.path("copy"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: file, toPath: copy)
        #expect(!FileManager.default.fileExists(atPath: directory.path("copy/\(HubStore.fileName)-wal")))
        let restored = try HubStore.open(directory: directory.path("copy"))
        #expect(try restored.hubID() == (try hub.hubID()))
        let key = { (store: HubStore) in try store.writer.read { db in try HubStore.voucherKey(db).withUnsafeBytes { Array($0) } } }
        #expect(try key(restored) == (try key(hub)))
    }

    @Test("the hub keeps each replica id's last pushes in its ledger, across a restart")
    func ledgerHistory() async throws {
        let directory = try TemporaryDirectory("mufakat-ledger")
        let replica = try ReplicaID("aaaa")
        var after = ""
        do {
            let hub = try HubStore.open(directory: directory.path("hub"))
            for n in 1...3 {
                let header = PushHeader(through: UInt64(n), id: "p\(n)", after: after, counter: UInt64(n))
                _ = try await hub.applyPush([], header: header, from: replica).get()
                after = header.id
            }
        }
        let reopened = try HubStore.open(directory: directory.path("hub"))
        let ledger = try await reopened.ledger(for: replica.rawValue)
        #expect(ledger.push == "p3")
        #expect(ledger.recent == [PushMark(push: "p1", through: 1), PushMark(push: "p2", through: 2), PushMark(push: "p3", through: 3)])
    }

    @Test("a hub file from before the dot index gets it filled from its records on open, and refuses a reused dot with it")
    func dotIndexMigration() async throws {
        let directory = try TemporaryDirectory("mufakat-dots")
        let a = try ReplicaID("aaaa"), b = try ReplicaID("bbbb")
        func organization(_ id: String, _ name: String, dot: Dot, context: VersionVector? = nil) throws -> ReplicatedRecord {
            var state = RecordState()
            try state.write(["name": .string(name), "type": .string("NGO")], dot: dot, now: 1_764_400_000_000 + Int64(dot.counter), author: "A")
            if let context { state = try RecordState(context: context, fields: state.fields) }
            return ReplicatedRecord(collection: "organizations", id: id, state: state)
        }
        do {
            let hub = try HubStore.open(directory: directory.path("hub"))
            let result = try await hub.applyPush(
                [try organization("iom", "IOM", dot: Dot(replica: a, counter: 1)), try organization("unicef", "UNICEF", dot: Dot(replica: a, counter: 2))],
                header: PushHeader(through: 2, id: "p1", after: "", counter: 2), from: a).get()
            #expect(result.accepted == 2)
            // As a hub written by 0.4 left it: no index, the migration not yet run.
            try await hub.writer.write { db in
                try db.execute(sql: "DROP TABLE dots; DELETE FROM grdb_migrations WHERE identifier = 'hub-v3-dots'")
            }
        }
        let hub = try HubStore.open(directory: directory.path("hub"))
        let rows = try await hub.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT replica, counter, collection, id FROM dots ORDER BY counter").map {
                "\($0["replica"] as String):\($0["counter"] as Int64) \($0["collection"] as String)/\($0["id"] as String)"
            }
        }
        #expect(rows == ["aaaa:1 organizations/iom", "aaaa:2 organizations/unicef"])
        // b holds a write of a's under a:1 in unicef: a:1 is iom's.
        let reused = try organization("unicef", "UNICEF Indonesia", dot: Dot(replica: a, counter: 1), context: [a: 2])
        let refused = try await hub.applyPush([reused], header: PushHeader(through: 1, id: "p2", after: "", counter: 0), from: b).get()
        #expect(refused.rejected.map(\.rejection.code) == [.reusedDot])
        #expect(refused.rejected.first?.rejection.dots == [Dot(replica: a, counter: 1)])
    }

    @Test("in re-seed mode a relayer cannot claim another replica's future dots in the index: that replica's later writes are not refused")
    func relayCannotPoisonIndex() async throws {
        let hub = try HubStore.inMemory()
        let owner = try ReplicaID("aaaa"), relayer = try ReplicaID("bbbb")
        func organization(_ id: String, dot: Dot) throws -> ReplicatedRecord {
            var state = RecordState()
            try state.write(["name": .string(id.uppercased()), "type": .string("NGO")], dot: dot, now: 1_764_400_000_000 + Int64(dot.counter), author: "A")
            return ReplicatedRecord(collection: "organizations", id: id, state: state)
        }
        let relay = PushRules(relay: true)
        // The owner has written through counter 1; the relayer claims aaaa:1 (known) and
        // aaaa:9 (not yet written) in junk records.
        _ = try await hub.applyPush([try organization("iom", dot: Dot(replica: owner, counter: 1))],
                                    header: PushHeader(through: 1, id: "o1", after: "", counter: 1), from: owner).get()
        let junk = try await hub.applyPush(
            [try organization("junk-a", dot: Dot(replica: owner, counter: 1)), try organization("junk-b", dot: Dot(replica: owner, counter: 9))],
            header: PushHeader(through: 1, id: "r1", after: "", counter: 0), from: relayer, rules: relay).get()
        #expect(junk.rejected.map(\.rejection.code) == [.reusedDot], "aaaa:1 is iom's")
        // aaaa:9 was stored in junk-b but not indexed: the owner's real write under it is not refused.
        let real = try await hub.applyPush([try organization("unicef", dot: Dot(replica: owner, counter: 9))],
                                           header: PushHeader(through: 9, id: "o2", after: "o1", counter: 9), from: owner).get()
        #expect(real.rejected.isEmpty && real.accepted == 1)
    }

    @Test("a put at counter 2^63 − 2 uses the next counter; at 2^63 − 1, 2^63 and 2^64 − 1 it takes a new id, keeping every value", arguments: [
        Counters.maxCounter - 1, Counters.maxCounter, Counters.maxCounter + 1, UInt64.max,
    ])
    func counters(_ counter: UInt64) async throws {
        let store = try ReplicaStore.inMemory(naming: false)
        try store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
        // Acknowledge it, as a sync would.
        let batch = try #require(try await store.nextPendingPush(limit: 10))
        try await store.acknowledgePush(batch, through: batch.header.through, rejected: [], rejectedCount: 0, hubID: "h")
        try store.put("organizations", id: "iom", [("country", "ID")])
        let before = try store.metadata().replica
        try await store.writer.write { db in
            try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'counter'", arguments: [String(counter)])
        }
        try store.put("organizations", id: "iom", [("name", "IOM Indonesia")])
        let after = try store.metadata()
        let document = try store.get("organizations", id: "iom").document
        #expect(document["name"] == .string("IOM Indonesia"))
        #expect(document["country"] == .string("ID"), "the unsynced write survives the new id")
        #expect(document["type"] == .string("UNAgency"))
        if counter < Counters.maxCounter {
            #expect(after.replica == before)
            #expect(after.counter == counter + 1)
        } else {
            #expect(after.replica != before)
            #expect(after.previousReplicas == [before.rawValue])
            #expect(after.counter <= 3)
            // The synced write stays under the old id (the hub holds it); the rest is re-stamped.
            let state = try await store.writer.read { db in try db.fetchState(collection: "organizations", id: "iom")! }
            #expect(state.fields["type"]?.first?.dot.replica == before)
            #expect(state.fields["country"]?.first?.dot.replica == after.replica)
        }
        #expect(try store.integrityCheck() == ["ok"])
    }

    @Test("a sync with the counter above 2^63 − 1 and no new write takes a new id at welcome")
    func exhaustedAtWelcome() async throws {
        let store = try ReplicaStore.inMemory(naming: false)
        try store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
        try await store.writer.write { db in
            try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'counter'", arguments: [String(UInt64.max)])
        }
        let start = try await store.beginSync(HubView(hubID: "h", sequence: 0, ledger: .empty))
        #expect(start.verdict == .replicaBehind(.countersExhausted(UInt64.max)))
        #expect(try await store.hasJournal())
        try await store.replayJournal()
        #expect(try store.metadata().counter == 1)
        #expect(try store.get("organizations", id: "iom").document["name"] == .string("IOM"))
    }
}

@Suite("Writing while a new id's journal waits")
struct PendingJournalTests {
    @Test("a sync cut after taking a new id: a put counts the waiting values, and replaces them without a conflict")
    func putDuringJournal() async throws {
        let store = try ReplicaStore.inMemory(naming: false)
        try store.put("positions", id: "gov:budget", [("stance", "Neutral"), ("statement", "v1")])
        // The hub says it holds more of this id than this copy: a restored backup.
        let start = try await store.beginSync(HubView(hubID: "h", sequence: 0, ledger: LedgerEntry(counter: 9, through: 9, push: "p9")))
        guard case .replicaBehind = start.verdict else { Issue.record("not behind: \(start.verdict)"); return }
        #expect(try await store.hasJournal())
        // The sync is cut here; the person edits one field offline.
        try store.put("positions", id: "gov:budget", [("statement", "v3")])
        try await store.replayJournal()
        let record = try store.get("positions", id: "gov:budget")
        #expect(record.document["statement"] == .string("v3"))
        #expect(record.document["stance"] == .string("Neutral"))
        #expect(record.conflicts.isEmpty)
    }
}
