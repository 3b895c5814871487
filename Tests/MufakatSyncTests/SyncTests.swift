import Foundation
import MufakatClient
import MufakatCore
import MufakatStore
import MufakatTesting
import MufakatWire
import Testing

@Suite("Sync between a hub and replicas")
struct SyncTests {
    @Test("push, pull, conflict, resolve: three replicas converge by digest")
    func conflictAndConvergence() async throws {
        try await withHub { hub in
            let iom = try TestReplica(hub: hub, org: "iom", name: "Andi")
            let unicef = try TestReplica(hub: hub, org: "unicef", name: "Sari")
            let stc = try TestReplica(hub: hub, org: "stc", name: "Budi")
            try iom.store.put("positions", id: "kemnaker:ask-1", [("stance", "Neutral"), ("influence", "Low")])
            try await iom.sync()
            try await unicef.sync()
            try await stc.sync()
            #expect(try unicef.store.get("positions", id: "kemnaker:ask-1").document["stance"] == .string("Neutral"))

            try iom.store.put("positions", id: "kemnaker:ask-1", [("stance", "ActiveSupport")])
            try unicef.store.put("positions", id: "kemnaker:ask-1", [("stance", "PassiveOpposition")])
            try stc.store.put("positions", id: "kemnaker:ask-1", [("influence", "High")])
            try await iom.sync()
            try await unicef.sync()
            let last = try await stc.sync()
            #expect(last.newConflicts == 1)
            try await iom.sync()
            try await unicef.sync()
            for replica in [iom, unicef, stc] {
                let record = try replica.store.get("positions", id: "kemnaker:ask-1")
                #expect(record.conflicts.map(\.field) == ["stance"])
                #expect(record.document["influence"] == .string("High"))
            }
            #expect(try hub.store.conflicts().map(\.id) == ["kemnaker:ask-1"])

            try stc.store.resolve("positions", id: "kemnaker:ask-1", field: "stance", .value("PassiveSupport"))
            try await stc.sync()
            try await iom.sync()
            try await unicef.sync()
            let digests = try [iom.digest, unicef.digest, stc.digest, hub.store.digest()]
            #expect(Set(digests).count == 1)
            #expect(try hub.store.conflicts().isEmpty)
            #expect(try iom.store.get("positions", id: "kemnaker:ask-1").document["stance"] == .string("PassiveSupport"))
        }
    }

    @Test(
        "a replica does not download back what it alone pushed; a no-op sync moves nothing but hello and welcome (and the TLS handshake)",
        arguments: [(insecure: true, bound: 450), (insecure: false, bound: 450 + 2_500)])
    func noEcho(_ transport: (insecure: Bool, bound: Int)) async throws {
        try await withHub(insecure: transport.insecure) { hub in
            let replica = try TestReplica(hub: hub)
            for index in 0..<50 {
                try replica.store.put("organizations", id: "org-\(index)", [("name", "Org \(index)"), ("type", "NGO")])
            }
            let first = try await replica.sync()
            #expect(first.pushed == 50)
            #expect(first.pulled == 0)
            let second = try await replica.sync()
            #expect(second.pushed == 0 && second.pulled == 0)
            #expect(second.bytesSent < transport.bound && second.bytesReceived < transport.bound, "\(second.bytesSent) up, \(second.bytesReceived) down")
        }
    }

    @Test("killed after 3 of 10 push batches: the next sync carries on, nothing lost or doubled")
    func resumePush() async throws {
        try await withHub { hub in
            var replica = try TestReplica(hub: hub)
            replica.batchSize = 10
            for index in 0..<100 {
                try replica.store.put("organizations", id: "org-\(index)", [("name", "Org \(index)"), ("type", "NGO")])
            }
            await #expect(throws: (any Error).self) {
                try await replica.sync(afterPushBatch: { if $0 == 3 { throw SimulatedCrash() } })
            }
            #expect(try hub.store.summary().records == 30)
            #expect(try replica.store.status().pendingChanges == 70)
            let resumed = try await replica.sync()
            #expect(resumed.pushed == 70)
            #expect(try hub.store.summary().records == 100)
            #expect(try hub.store.digest() == replica.digest)
        }
    }

    @Test("killed after 4 pull batches: the checkpoint kept, the next sync carries on")
    func resumePull() async throws {
        try await withHub { hub in
            let writer = try TestReplica(hub: hub)
            var data = SampleData(seed: 5)
            let csv = data.reportsCSV(rows: 120)
            _ = try writer.store.importCSV("reports", data: Data(csv.utf8))
            try await writer.sync()
            var reader = try TestReplica(hub: hub, org: "unicef", name: "Sari")
            reader.batchSize = 10
            await #expect(throws: (any Error).self) {
                try await reader.sync(afterPullBatch: { if $0 == 4 { throw SimulatedCrash() } })
            }
            #expect(try reader.store.list("reports").count == 40)
            #expect(try reader.store.metadata().checkpoint == 40)
            let resumed = try await reader.sync()
            #expect(resumed.pulled == 80)
            #expect(try reader.digest == hub.store.digest())
        }
    }

    @Test("a connection cut after sending writes is repaired by syncing again: the hub answers them with the names it gave")
    func cutAfterPush() async throws {
        try await withHub { hub in
            let replica = try TestReplica(hub: hub)
            try replica.store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
            let metadata = try replica.store.metadata()
            let batch = try await replica.store.nextWrites(after: 0, limit: 10)
            #expect(batch.writes.count == 1)
            try await RawHubConnection.with(hub) { connection in
                _ = try await connection.hello(replica: metadata.replica.rawValue, token: metadata.token, version: WireProtocol.namingVersion)
                try await connection.send(.write(WriteBatch(id: "cut-batch"), writes: batch.writes))
                // Hang up without reading `named`.
            }
            let summary = try await replica.sync()
            #expect(summary.pushed + summary.unchanged == 1)
            #expect(summary.hubSoftware == "mufakat-hub \(MufakatVersion.current)")
            #expect(try hub.store.summary().records == 1)
            #expect(try hub.store.digest() == replica.digest)
        }
    }

    @Test("a revoked token is refused and the local data stays as it was")
    func revokedToken() async throws {
        try await withHub { hub in
            let (id, secret) = try hub.store.createToken(org: "iom", name: "Andi", role: .coordinator)
            let store = try hub.replica(token: secret)
            try store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
            try await TestReplica(store: store).sync()
            try store.put("organizations", id: "unicef", [("name", "UNICEF"), ("type", "UNAgency")])
            try hub.store.revokeToken(id: id)
            let before = try store.digest()
            let pending = try store.status().pendingChanges
            do {
                try await TestReplica(store: store).sync()
                Issue.record("a revoked token synced")
            } catch let error as SyncError {
                #expect(error.kind == .refused)
                #expect(error.message.contains("token"))
            }
            #expect(try store.digest() == before)
            #expect(try store.status().pendingChanges == pending)
        }
    }

    @Test("revoking a token refuses a live session at its next frame")
    func revokedLive() async throws {
        try await withHub { hub in
            let (id, secret) = try hub.store.createToken(org: "iom", name: "Andi", role: .coordinator)
            try await RawHubConnection.with(hub) { connection in
                guard case .welcome = try await connection.hello(replica: "abc123", token: secret) else {
                    Issue.record("no welcome")
                    return
                }
                try await connection.send(.ping(Ping(nonce: 1)))
                #expect(try await connection.receive() == .pong(Ping(nonce: 1)))
                try hub.store.revokeToken(id: id)
                try await connection.send(.ping(Ping(nonce: 2)))
                guard case .error(let error) = try await connection.receive() else {
                    Issue.record("no error after revocation")
                    return
                }
                #expect(error.code == .unauthorized)
                #expect(try await connection.receive() == nil)
            }
        }
    }

    @Test("a replica id belongs to the token that first used it")
    func replicaBoundToToken() async throws {
        try await withHub { hub in
            let first = try hub.token(org: "iom", name: "Andi")
            let second = try hub.token(org: "unicef", name: "Sari")
            try await RawHubConnection.with(hub) { connection in
                guard case .welcome = try await connection.hello(replica: "feed01", token: first) else { throw SimulatedCrash() }
            }
            try await RawHubConnection.with(hub) { connection in
                guard case .error(let error) = try await connection.hello(replica: "feed01", token: second) else {
                    Issue.record("hub accepted a replica id under another token")
                    return
                }
                #expect(error.code == .replicaTaken)
            }
        }
    }

    @Test("a hub rebuilt empty where another token took this replica's id first: the replica takes a new id, its writes kept, not locked out")
    func squattedReplicaID() async throws {
        try await withHub { hub in
            let replica = try TestReplica(hub: hub)
            try replica.store.put("positions", id: "gov:ask-1", [("stance", "Neutral")])
            let id = try replica.store.metadata().replica.rawValue
            // Someone else says hello under this id first (the binding died with the old hub).
            let squatter = try hub.token(org: "x", name: "Mallory")
            try await RawHubConnection.with(hub) { connection in
                guard case .welcome = try await connection.hello(replica: id, token: squatter) else { throw SimulatedCrash() }
            }
            let summary = try await replica.sync()
            #expect(summary.newIdentity?.contains("another token") == true)
            #expect(try replica.store.metadata().replica.rawValue != id)
            #expect(try hub.store.records().first?.state.document["stance"] == .string("Neutral"))
            #expect(try replica.digest == hub.store.digest())
        }
    }

    @Test("writes of another replica the hub has not seen are refused; the rest of the batch applies")
    func forgedDots() async throws {
        try await withHub { hub in
            let token = try hub.token()
            var forged = RecordState()
            try forged.write(
                ["name": .string("Forged"), "type": .string("NGO")], dot: Dot(replica: try ReplicaID("beef"), counter: 1),
                now: 1, author: "Someone else")
            var honest = RecordState()
            try honest.write(
                ["name": .string("IOM"), "type": .string("UNAgency")], dot: Dot(replica: try ReplicaID("cafe"), counter: 1),
                now: 1, author: "Andi")
            var invalid = RecordState()
            try invalid.write(
                ["name": .string("X"), "type": .string("Charity")], dot: Dot(replica: try ReplicaID("cafe"), counter: 2),
                now: 1, author: "Andi")
            try await RawHubConnection.with(hub) { connection in
                guard case .welcome = try await connection.hello(replica: "cafe", token: token) else { throw SimulatedCrash() }
                try await connection.send(.push(Push(through: 2, id: "p1", after: "", counter: 2), records: [
                    ReplicatedRecord(collection: "organizations", id: "forged", state: forged),
                    ReplicatedRecord(collection: "organizations", id: "iom", state: honest),
                    ReplicatedRecord(collection: "organizations", id: "x", state: invalid),
                ]))
                guard case .pushed(let pushed) = try await connection.receive() else {
                    Issue.record("no pushed")
                    return
                }
                #expect(pushed.accepted == 1)
                #expect(pushed.rejected.map(\.code) == ["forged-dot", "invalid"])
                #expect(pushed.rejected.map(\.id) == ["forged", "x"])
                #expect(pushed.rejected[1].fields == ["type"])
                #expect(pushed.rejectedCount == 2)
            }
            #expect(try hub.store.records().map(\.id) == ["iom"])
        }
    }

    @Test("a replica restored from an old backup keeps its id; the writes it missed and the ones it makes survive")
    func restoredBackup() async throws {
        try await withHub { hub in
            let directory = try TemporaryDirectory()
            let path = directory.path("replica.sqlite")
            let store = try ReplicaStore.create(
                at: path, hub: hub.address, token: try hub.token(), name: "Andi", hubKey: try #require(hub.key).description)
            try store.put("positions", id: "a:ask-1", [("stance", "Neutral")])
            try await TestReplica(store: store).sync()
            try store.backup(to: directory.path("backup.sqlite"))
            try store.put("positions", id: "a:ask-1", [("influence", "High")])
            try await TestReplica(store: store).sync()
            let original = try store.metadata().replica

            // The laptop dies; the backup comes back, and someone writes on it before syncing.
            let restored = try ReplicaStore.open(at: directory.path("backup.sqlite"))
            try restored.put("positions", id: "a:ask-1", [("stance", "Unknown")])
            let summary = try await TestReplica(store: restored).sync()
            #expect(summary.newIdentity == nil)
            #expect(summary.rejected.isEmpty)
            #expect(try restored.metadata().replica == original, "write ids, not the replica id, keep the writes apart")
            let onHub = try #require(try hub.store.records().first?.state.document)
            #expect(onHub["stance"] == .string("Unknown"))
            #expect(onHub["influence"] == .string("High"), "the write made after the backup is not lost")
            #expect(try restored.digest() == hub.store.digest())
            // The original laptop, still alive, converges too.
            try await TestReplica(store: store).sync()
            #expect(try store.digest() == hub.store.digest())
        }
    }

    /// A laptop restored from a backup meets a hub restored from an older snapshot: neither
    /// knows the laptop's lost write, which a colleague's replica still holds, and the laptop
    /// uses that write's dot again. The hub's dot index shows the reuse when the colleague
    /// pushes, and the colleague writes the lost write again under its own id.
    @Test("replicas of 0.7: a write under a dot its replica used again elsewhere is refused as reused-dot, written again by the replica holding it, and kept")
    func reusedDotWrittenAgain() async throws {
        try await withHub { hub in
            let laptop = try TestReplica(hub: hub, org: "iom", name: "Andi", naming: false)
            let colleague = try TestReplica(hub: hub, org: "unicef", name: "Sari", naming: false)
            try laptop.store.put("positions", id: "gov:ask-2", [("stance", "Neutral")])
            try await laptop.sync()
            try await colleague.sync()

            // The write both the laptop and the hub lost: the laptop's next dot, in gov:ask-2,
            // as the colleague pulled it before the hub was rewound.
            let id = try laptop.store.metadata().replica
            var held = try #require(try hub.store.records().first { $0.id == "gov:ask-2" }).state
            try held.write(["statement": .string("The ministry will fund shelters")], dot: Dot(replica: id, counter: 2), now: 1_764_400_000_000, author: "Andi (IOM)")
            _ = try await colleague.store.applyPulled([ReplicatedRecord(collection: "positions", id: "gov:ask-2", state: held)], through: 1)

            // The laptop goes on under the same dots: counter 2 in another record, then a
            // write in gov:ask-2 whose context claims counter 2.
            try laptop.store.put("positions", id: "gov:ask-1", [("stance", "Unknown")])
            try laptop.store.put("positions", id: "gov:ask-2", [("statement", "Under review")])
            try await laptop.sync()

            // The colleague edits gov:ask-2 and syncs: refused once, written again, kept.
            try colleague.store.put("positions", id: "gov:ask-2", [("source", "Meeting notes")])
            let summary = try await colleague.sync()
            #expect(summary.restamped == 1)
            #expect(summary.rejected.map(\.code) == ["reused-dot"])
            #expect(summary.rejected.first?.dots == ["\(id):2"])
            #expect(try colleague.store.pendingRejections().isEmpty, "the record went through once written again")
            let onHub = try #require(try hub.store.records().first { $0.id == "gov:ask-2" }).state
            let statements = Set((onHub.fields["statement"] ?? []).map(\.value))
            #expect(statements == [.string("The ministry will fund shelters"), .string("Under review")], "both writes kept, shown as a conflict")
            let colleagueID = try colleague.store.metadata().replica
            #expect(onHub.fields["statement"]?.first { $0.value == .string("The ministry will fund shelters") }?.dot.replica == colleagueID)
            try await laptop.sync()
            #expect(try laptop.digest == hub.store.digest() && colleague.digest == hub.store.digest())
        }
    }

    @Test("an unreachable hub fails with a clear message and leaves the replica as it was")
    func unreachable() async throws {
        let store = try ReplicaStore.inMemory(hub: "127.0.0.1:1", token: "t", name: "Andi", hubKey: HubKey(subjectPublicKeyInfo: [1]).description)
        try store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
        let before = try store.digest()
        do {
            try await TestReplica(store: store).sync()
            Issue.record("synced with nothing")
        } catch let error as SyncError {
            #expect(error.kind == .unreachable)
            #expect(error.message.contains("cannot reach the hub at 127.0.0.1:1"))
        }
        #expect(try store.digest() == before)
        #expect(try store.status().pendingChanges == 1)
    }
}
