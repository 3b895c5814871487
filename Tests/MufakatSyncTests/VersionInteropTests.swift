import MufakatClient
import MufakatCore
import MufakatHub
import MufakatTesting
import MufakatWire
import Testing

/// Protocol versions 2 to 5 side by side (PROTOCOL.md §9): a coalition upgrades its hub
/// first and its laptops over weeks.
@Suite("Protocol versions 2, 3, 4 and 5 through one hub")
struct VersionInteropTests {
    @Test("a version 2 client of 0.5 and a current client whose writes the hub names write, conflict, resolve and converge through one hub")
    func mixedClients() async throws {
        try await withHub { hub in
            let current = try TestReplica(hub: hub, org: "iom", name: "Andi")
            var older = try TestReplica(hub: hub, org: "unicef", name: "Sari", naming: false)
            older.protocolVersion = 2
            try current.store.put("positions", id: "kemnaker:ask-1", [("stance", "Neutral"), ("influence", "Low")])
            try older.store.put("asks", id: "ask-1", [("title", "Fund the task forces"), ("category", "BudgetIncrease")])
            #expect(try await current.sync().protocolVersion == WireProtocol.namingVersion)
            let first = try await older.sync()
            #expect(first.protocolVersion == 2 && first.olderHub == nil)
            #expect(first.pulled == 1)

            // Concurrent edits: one field each merges, the same field conflicts.
            try current.store.put("positions", id: "kemnaker:ask-1", [("stance", "ActiveSupport")])
            try older.store.put("positions", id: "kemnaker:ask-1", [("stance", "PassiveOpposition"), ("influence", "High")])
            try await current.sync()
            try await older.sync()
            try await current.sync()
            for replica in [current, older] {
                let record = try replica.store.get("positions", id: "kemnaker:ask-1")
                #expect(record.conflicts.map(\.field) == ["stance"])
                #expect(record.document["influence"] == .string("High"))
            }
            try older.store.resolve("positions", id: "kemnaker:ask-1", field: "stance", .value("PassiveSupport"))
            try older.store.delete("asks", id: "ask-1")
            try await older.sync()
            try await current.sync()
            let digests = try [current.digest, older.digest, hub.store.digest()]
            #expect(Set(digests).count == 1)
            #expect(try current.store.get("positions", id: "kemnaker:ask-1").document["stance"] == .string("PassiveSupport"))
            #expect(try hub.store.conflicts().isEmpty)
        }
    }

    @Test("a hub that speaks version 2 only: a client of 0.7 asks again in version 2, says so, and syncs")
    func olderHub() async throws {
        try await withHub(configure: { $0.protocolVersions = [2] }) { hub in
            let writer = try TestReplica(hub: hub, org: "iom", name: "Andi", naming: false)
            let reader = try TestReplica(hub: hub, org: "unicef", name: "Sari", naming: false)
            try writer.store.put("positions", id: "kemnaker:ask-1", [("stance", "Neutral")])
            let pushed = try await writer.sync()
            #expect(pushed.protocolVersion == 2)
            #expect(pushed.olderHub?.contains("version 2 only") == true)
            #expect(pushed.pushed == 1)
            let pulled = try await reader.sync()
            #expect(pulled.pulled == 1 && pulled.olderHub != nil)
            #expect(Set(try [writer.digest, reader.digest, hub.store.digest()]).count == 1)
        }
    }

    @Test("a hub of 0.6 (versions 2 and 3): a client of 0.7 steps down to 3 and syncs; history says the hub must be upgraded")
    func hubOfVersion3() async throws {
        try await withHub(configure: { $0.protocolVersions = [2, 3] }) { hub in
            let writer = try TestReplica(hub: hub, org: "iom", name: "Andi", naming: false)
            try writer.store.put("positions", id: "kemnaker:ask-1", [("stance", "Neutral")])
            let pushed = try await writer.sync()
            #expect(pushed.protocolVersion == 3)
            #expect(pushed.olderHub?.contains("version 3 at most") == true)
            #expect(try writer.digest == hub.store.digest())
            do {
                _ = try await SyncClient(store: writer.store, timeout: .seconds(20)).history(collection: "positions", id: "kemnaker:ask-1")
                Issue.record("a hub speaking 3 at most answered history")
            } catch let error as SyncError {
                #expect(error.message.contains("before 0.7"), "\(error.message)")
            }
        }
    }

    @Test("a hub that no longer speaks version 2 refuses a version 2 client, saying which versions it speaks")
    func newerHub() async throws {
        try await withHub(configure: { $0.protocolVersions = [3] }) { hub in
            var older = try TestReplica(hub: hub, org: "iom", name: "Andi", naming: false)
            older.protocolVersion = 2
            try older.store.put("positions", id: "kemnaker:ask-1", [("stance", "Neutral")])
            do {
                try await older.sync()
                Issue.record("a version 2 hello was accepted by a hub speaking 3 only")
            } catch let error as SyncError {
                #expect(error.code == WireError.Code.versionUnsupported.rawValue)
                #expect(error.message.contains("this hub speaks 3"), "\(error.message)")
            }
            #expect(try hub.store.summary().records == 0)
        }
    }

    @Test("a replica whose writes the hub names meets a hub of 0.7: told to have the hub upgraded, nothing sent")
    func hubBeforeNaming() async throws {
        try await withHub(configure: { $0.protocolVersions = [2, 3, 4] }) { hub in
            let replica = try TestReplica(hub: hub, org: "iom", name: "Andi")
            try replica.store.put("positions", id: "kemnaker:ask-1", [("stance", "Neutral")])
            do {
                try await replica.sync()
                Issue.record("a replica naming its writes by the hub synced with a hub that does not name them")
            } catch let error as SyncError {
                #expect(error.message.contains("upgrade the hub") && error.message.contains("nothing was sent"), "\(error.message)")
            }
            #expect(try hub.store.summary().records == 0)
            #expect(try replica.store.pendingCount() == 1)
        }
    }

    @Test("a replica of 0.7 sends what it holds in protocol 4, then switches for good: the hub names its next writes")
    func upgradeInPlace() async throws {
        try await withHub { hub in
            var laptop = try TestReplica(hub: hub, org: "iom", name: "Andi", naming: false)
            try laptop.store.put("positions", id: "kemnaker:ask-1", [("stance", "Neutral")])
            try await laptop.sync()
            #expect(try !laptop.store.namesWrites(), "a client told to speak 4 at most stays a replica of 0.7")
            // The laptop is upgraded with a change not yet sent.
            try laptop.store.put("positions", id: "kemnaker:ask-1", [("influence", "High")])
            laptop.protocolVersion = WireProtocol.namingVersion
            let summary = try await laptop.sync()
            #expect(summary.protocolVersion == WireProtocol.namingVersion)
            #expect(try laptop.store.namesWrites())
            try laptop.store.put("positions", id: "kemnaker:ask-1", [("stance", "ActiveSupport")])
            try await laptop.sync()
            let onHub = try #require(try hub.store.records().first).state
            #expect(onHub.document["influence"] == .string("High") && onHub.document["stance"] == .string("ActiveSupport"))
            let run = try #require(try hub.store.incarnations().last).actor
            #expect(onHub.fields["stance"]?.map(\.dot.replica) == [run], "the last write is named by the hub's run")
            #expect(try laptop.digest == hub.store.digest())
        }
    }
}
