import Foundation
import GRDB
import MufakatCore
import MufakatSync
import Synchronization
import Testing
@testable import MufakatStore

/// The hub names every write (protocol 5, docs/write-naming.md), on a real hub file.
@Suite("Hub store: naming writes, incarnations, idempotent pushes")
struct HubNamingTests {
    static let replica = "a1a1a1a1a1a1a1a1"
    static let meeting = "mtg-march"

    /// A hub in a fresh folder, a member's token bound to `replica`, a started incarnation.
    struct Fixture {
        var store: HubStore
        var folder: String
        var actor: ReplicaID
        var tokenID: String
    }

    static func fixture(role: Role = .member) async throws -> Fixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("naming-\(UUID().uuidString)").path
        let ticks = Mutex<Int64>(1_900_000_000_000)
        let store = try HubStore.open(directory: folder, clock: { ticks.withLock { $0 += 1_000; return $0 } })
        let (token, _) = try store.createToken(org: "ngo-a", name: "Ana", role: role)
        _ = try await store.bind(replica: replica, tokenID: token, client: "test")
        let incarnation = try store.startIncarnation()
        return Fixture(store: store, folder: folder, actor: incarnation.actor, tokenID: token)
    }

    static func write(
        _ values: [String: FieldValue], context: VersionVector = VersionVector(), after: [WriteID] = [], ids: inout WriteIDSource,
        enteredAt: Int64 = 5_000
    ) -> PendingWrite {
        PendingWrite(id: ids.next(), values: values, context: context, after: after, enteredAt: enteredAt, author: "Ana typed this")
    }

    static let created: [String: FieldValue] = ["title": .string("March meeting"), "date": .string("2026-03-05")]

    static func name(_ store: HubStore, _ actor: ReplicaID, _ writes: [PendingWrite], id: String = meeting, push: String = "p1") async throws -> [NamingResult] {
        try await store.nameWrites(
            writes.map { PushedWrite(collection: "meetings", id: id, write: $0) }, incarnation: actor, replica: replica, push: push)
    }

    static func named(_ result: NamingResult) throws -> WriteName {
        guard case .named(let name) = result else { throw MufakatError(.invalid, "refused: \(result)") }
        return name
    }

    static func state(_ store: HubStore, _ id: String = meeting) throws -> RecordState? {
        try store.records().first { $0.id == id }?.state
    }

    @Test("every start is a new incarnation; counters survive a reopen; an unknown incarnation names nothing")
    func incarnations() async throws {
        let f = try await Self.fixture()
        var ids = WriteIDSource()
        let first = try Self.named(try await Self.name(f.store, f.actor, [Self.write(Self.created, ids: &ids)])[0])
        #expect(first.dot == Dot(replica: f.actor, counter: 1))
        let reopened = try HubStore.open(directory: f.folder)
        #expect(try reopened.incarnations().map(\.counter) == [1])
        let second = try reopened.startIncarnation()
        #expect(second.actor != f.actor && second.fromSequence == 1 && second.counter == 0)
        let later = try Self.named(try await Self.name(reopened, second.actor, [Self.write(["decisions": .string("x")], ids: &ids)])[0])
        #expect(later.dot == Dot(replica: second.actor, counter: 1))
        #expect(try reopened.incarnations().map(\.actor) == [f.actor, second.actor])
        await #expect(throws: MufakatError.self) {
            try await Self.name(reopened, try ReplicaID("0000000000000000"), [Self.write(["decisions": .string("y")], ids: &ids)])
        }
    }

    @Test("the hub stamps its own time and the token's name and organisation; the laptop's clock and typed name are kept aside")
    func stamps() async throws {
        let f = try await Self.fixture()
        var ids = WriteIDSource()
        let write = Self.write(Self.created, ids: &ids, enteredAt: 4_102_444_800_000)
        let name = try Self.named(try await Self.name(f.store, f.actor, [write])[0])
        #expect(name.author == "Ana (ngo-a)")
        #expect(name.time > 1_900_000_000_000 && name.time < 2_000_000_000_000)
        let state = try #require(try Self.state(f.store))
        #expect(state.fields.values.joined().allSatisfy { $0.author == "Ana (ngo-a)" && $0.time == name.time && $0.dot == name.dot })
        let row = try await f.store.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT entered_at, entered_by, token FROM writes WHERE tag = ?", arguments: [write.id.tag])
        }
        #expect(row?["entered_at"] == 4_102_444_800_000)
        #expect(row?["entered_by"] == "Ana typed this")
        #expect(row?["token"] == f.tokenID)
        #expect(try f.store.auditEntries().filter { $0.kind == nil }.count == 1)
    }

    @Test("a write pushed again — lost answer, copied folder, restored laptop — is answered with its dot and stored once")
    func idempotent() async throws {
        let f = try await Self.fixture()
        var ids = WriteIDSource()
        let write = Self.write(Self.created, ids: &ids)
        let first = try Self.named(try await Self.name(f.store, f.actor, [write], push: "p1")[0])
        let stateBefore = try Self.state(f.store)
        let sequenceBefore = try f.store.summary().sequence
        for push in ["p2", "p3"] {
            let again = try Self.named(try await Self.name(f.store, f.actor, [write], push: push)[0])
            #expect(again.dot == first.dot && again.time == first.time && again.earlier && !again.exact)
        }
        #expect(try Self.state(f.store) == stateBefore)
        #expect(try f.store.summary().sequence == sequenceBefore)
        #expect(try f.store.auditEntries().filter { $0.kind == nil }.count == 1)
        // The same id for other values, or another record: refused, nothing changes.
        var forged = write
        forged.values = ["title": .string("Something else"), "date": .string("2026-03-05")]
        guard case .refused(let other) = try await Self.name(f.store, f.actor, [forged])[0] else { Issue.record("accepted"); return }
        #expect(other.code == .corruption)
        guard case .refused(let elsewhere) = try await Self.name(f.store, f.actor, [write], id: "mtg-april")[0] else { Issue.record("accepted"); return }
        #expect(elsewhere.code == .corruption)
        #expect(try f.store.summary().sequence == sequenceBefore)
    }

    @Test("a later write following one the hub never received reserves it as seen; when it arrives it changes nothing")
    func reservation() async throws {
        let f = try await Self.fixture()
        var ids = WriteIDSource()
        let created = try Self.named(try await Self.name(f.store, f.actor, [Self.write(Self.created, ids: &ids)])[0])
        let context = try #require(try Self.state(f.store)).context
        let earlier = Self.write(["decisions": .string("X1"), "host": .string("iom")], context: context, ids: &ids)
        let later = Self.write(["decisions": .string("X2")], context: context, after: [earlier.id], ids: &ids)
        let name = try Self.named(try await Self.name(f.store, f.actor, [later])[0])
        #expect(name.over == [Dot(replica: f.actor, counter: created.dot.counter + 1)])
        #expect(name.dot.counter == created.dot.counter + 2)
        #expect(try f.store.writeName(earlier.id)?.reserved == true)
        let before = try Self.state(f.store)
        let arrived = try Self.named(try await Self.name(f.store, f.actor, [earlier])[0])
        #expect(arrived.earlier && arrived.dot == name.over[0])
        #expect(try Self.state(f.store) == before)
        #expect(try Self.state(f.store)?.displayValue(of: "decisions") == .string("X2"))
    }

    @Test("a context naming writes the hub never issued is refused; nothing is stored and no counter is spent")
    func contextBeyond() async throws {
        let f = try await Self.fixture()
        var ids = WriteIDSource()
        var claims = VersionVector()
        claims[f.actor] = 99
        guard case .refused(let beyond) = try await Self.name(f.store, f.actor, [Self.write(Self.created, context: claims, ids: &ids)])[0]
        else { Issue.record("accepted"); return }
        #expect(beyond.code == .counterBeyond)
        var stranger = VersionVector()
        stranger[try ReplicaID("5555555555555555")] = 1
        guard case .refused(let unknown) = try await Self.name(f.store, f.actor, [Self.write(Self.created, context: stranger, ids: &ids)])[0]
        else { Issue.record("accepted"); return }
        #expect(unknown.code == .counterBeyond)
        #expect(try Self.state(f.store) == nil)
        let name = try Self.named(try await Self.name(f.store, f.actor, [Self.write(Self.created, ids: &ids)])[0])
        #expect(name.dot.counter == 1)
    }

    @Test("rights, values and required fields are the hub's to check: refused with the rule, nothing stored")
    func refusals() async throws {
        let observer = try await Self.fixture(role: .observer)
        var ids = WriteIDSource()
        guard case .refused(let forbidden) = try await Self.name(observer.store, observer.actor, [Self.write(Self.created, ids: &ids)])[0]
        else { Issue.record("accepted"); return }
        #expect(forbidden.code == .forbidden)
        let f = try await Self.fixture()
        let results = try await Self.name(f.store, f.actor, [
            Self.write(["title": .string("No date")], ids: &ids),
            Self.write(["title": .string("T"), "date": .string("5 March")], ids: &ids),
            Self.write([:], ids: &ids),
        ])
        // One write may not follow more than 1,000 others (each could cost a reservation).
        let many = (0..<1_001).map { _ in ids.next() }
        guard case .refused(let long) = try await Self.name(f.store, f.actor, [Self.write(Self.created, after: many, ids: &ids)])[0]
        else { Issue.record("accepted"); return }
        #expect(long.code == .invalid && long.reason.contains("at most 1000"))
        let codes = results.map { result -> RecordRejection.Code? in if case .refused(let r) = result { return r.code } else { return nil } }
        #expect(codes == [.missingField, .invalid, .invalid])
        #expect(try Self.state(f.store) == nil)
        #expect(try f.store.summary().sequence == 0)
    }

    @Test("a pusher whose named state was the hub's applies the write itself and gets the hub's state byte for byte")
    func exact() async throws {
        let f = try await Self.fixture()
        var ids = WriteIDSource()
        // The laptop's named state: nothing yet. Two writes of one new record in one push.
        let create = Self.write(Self.created, ids: &ids)
        let edit = Self.write(["decisions": .string("Fund the hotline")], after: [create.id], ids: &ids)
        let names = try await Self.name(f.store, f.actor, [create, edit]).map(Self.named)
        #expect(names.map(\.exact) == [true, true])
        var laptop = RecordState()
        for (write, name) in zip([create, edit], names) {
            laptop = try laptop.applyingNamed(
                write.values, seen: write.context, over: Set(name.over), dot: name.dot, time: name.time, author: name.author)
        }
        #expect(laptop == (try Self.state(f.store)))
        #expect(laptop.compactJSON == (try Self.state(f.store))?.compactJSON)
        // Someone else writes; a write made on the older named state is no longer exact.
        let other = Self.write(["host": .string("unicef")], context: laptop.context, ids: &ids)
        _ = try await Self.name(f.store, f.actor, [other], push: "p2")
        let stale = Self.write(["decisions": .string("Fund two hotlines")], context: laptop.context, ids: &ids)
        #expect(try Self.named(try await Self.name(f.store, f.actor, [stale], push: "p3")[0]).exact == false)
        let origins = try await f.store.writer.read { db in try String?.fetchAll(db, sql: "SELECT origin FROM records") }
        #expect(origins == [nil])
    }

    /// Issue 27, case 1, on the real hub store: W1 stands beside X2.
    @Test("a laptop restored from a backup that edits one record twice keeps the write it had synced, as a conflict")
    func restoredLaptopEditsTwice() async throws {
        let f = try await Self.fixture()
        var ids = WriteIDSource()
        _ = try await Self.name(f.store, f.actor, [Self.write(Self.created, ids: &ids)])
        let backup = try #require(try Self.state(f.store))
        _ = try await Self.name(f.store, f.actor, [Self.write(["decisions": .string("W1")], context: backup.context, ids: &ids)])
        var restored = WriteIDSource()
        let x1 = Self.write(["decisions": .string("X1")], context: backup.context, ids: &restored)
        let x2 = Self.write(["decisions": .string("X2")], context: backup.context, after: [x1.id], ids: &restored)
        _ = try await Self.name(f.store, f.actor, [x1, x2], push: "p2")
        let state = try #require(try Self.state(f.store))
        #expect(Set(state.fields["decisions"]?.map(\.value) ?? []) == [.string("W1"), .string("X2")])
        #expect(state.conflicts.map(\.field) == ["decisions"])
    }

    @Test("a hub restored from a backup never issues a dot its lost future issued")
    func restoredHub() async throws {
        let f = try await Self.fixture()
        var ids = WriteIDSource()
        for index in 1...3 {
            _ = try await Self.name(f.store, f.actor, [Self.write(Self.created.merging(["host": .string("h\(index)")]) { $1 }, ids: &ids)])
        }
        let backupFolder = f.folder + "-restored"
        _ = try f.store.backup(to: (backupFolder as NSString).appendingPathComponent(HubStore.fileName))
        var lost: [Dot] = []
        for index in 4...5 {
            lost.append(try Self.named(try await Self.name(
                f.store, f.actor, [Self.write(["host": .string("h\(index)")], ids: &ids)])[0]).dot)
        }
        // The restored file starts, as every start does, a new incarnation.
        let restored = try HubStore.open(directory: backupFolder)
        #expect(try restored.incarnations().map(\.counter) == [3])
        let incarnation = try restored.startIncarnation()
        var issued: [Dot] = []
        for index in 6...8 {
            issued.append(try Self.named(try await Self.name(
                restored, incarnation.actor, [Self.write(["host": .string("h\(index)")], ids: &ids)])[0]).dot)
        }
        #expect(Set(issued).isDisjoint(with: lost))
        #expect(issued.allSatisfy { $0.replica == incarnation.actor })
    }
}

@Suite("Hub store: vouchers")
struct VoucherTests {
    @Test("a voucher is the hub's word for one record state: any other state, record or hub fails it")
    func vouchers() async throws {
        let f = try await HubNamingTests.fixture()
        var ids = WriteIDSource()
        _ = try await HubNamingTests.name(f.store, f.actor, [HubNamingTests.write(HubNamingTests.created, ids: &ids)])
        let state = try #require(try HubNamingTests.state(f.store))
        let voucher = try f.store.voucher(collection: "meetings", id: HubNamingTests.meeting, state: state)
        #expect(voucher.utf8.count == 16 && voucher.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(try f.store.verifyVoucher(voucher, collection: "meetings", id: HubNamingTests.meeting, state: state))
        // Another value, another record, another collection, a changed or cut voucher.
        var fields = state.fields
        fields["title"] = fields["title"]!.map { FieldEntry(dot: $0.dot, value: .string("Forged"), time: $0.time, author: $0.author) }
        let changed = try RecordState(context: state.context, fields: fields)
        #expect(try !f.store.verifyVoucher(voucher, collection: "meetings", id: HubNamingTests.meeting, state: changed))
        #expect(try !f.store.verifyVoucher(voucher, collection: "meetings", id: "mtg-april", state: state))
        #expect(try !f.store.verifyVoucher(voucher, collection: "asks", id: HubNamingTests.meeting, state: state))
        let flipped = String(voucher.dropLast()) + (voucher.last == "A" ? "B" : "A")
        #expect(try !f.store.verifyVoucher(flipped, collection: "meetings", id: HubNamingTests.meeting, state: state))
        #expect(try !f.store.verifyVoucher(String(voucher.dropLast()), collection: "meetings", id: HubNamingTests.meeting, state: state))
        #expect(try !f.store.verifyVoucher("", collection: "meetings", id: HubNamingTests.meeting, state: state))
        // The key lives in the hub file: a reopened hub and a restored backup vouch alike; a
        // hub rebuilt empty does not.
        let backup = f.folder + "-backup"
        _ = try f.store.backup(to: (backup as NSString).appendingPathComponent(HubStore.fileName))
        #expect(try HubStore.open(directory: f.folder).verifyVoucher(voucher, collection: "meetings", id: HubNamingTests.meeting, state: state))
        #expect(try HubStore.open(directory: backup).verifyVoucher(voucher, collection: "meetings", id: HubNamingTests.meeting, state: state))
        let rebuilt = try await HubNamingTests.fixture()
        #expect(try !rebuilt.store.verifyVoucher(voucher, collection: "meetings", id: HubNamingTests.meeting, state: state))
    }

    @Test("a write following one refused in the same batch is refused too, never named over it; a batch cannot make the hub reserve without end")
    func refusedAndBudgets() async throws {
        let f = try await HubNamingTests.fixture()
        var ids = WriteIDSource()
        // A member may not write another organisation's record: refused.
        let foreign = PendingWrite(
            id: ids.next(), values: ["name": .string("Other"), "type": .string("NGO")], context: VersionVector(), enteredAt: 1, author: "Ana")
        let following = PendingWrite(
            id: ids.next(), values: ["name": .string("Other again")], context: VersionVector(), after: [foreign.id], enteredAt: 2, author: "Ana")
        let results = try await f.store.nameWrites(
            [foreign, following].map { PushedWrite(collection: "organizations", id: "ngo-b", write: $0) },
            incarnation: f.actor, replica: HubNamingTests.replica, push: "p1")
        guard case .refused(let first) = results[0], case .refused(let second) = results[1] else {
            Issue.record("named: \(results)")
            return
        }
        #expect(first.code == .forbidden)
        #expect(second.reason.contains("which the hub refused"))
        #expect(try f.store.writeName(foreign.id) == nil, "the refused write is not reserved")

        // Made-up earlier writes: at most 10,000 reservations per batch.
        let created = try HubNamingTests.named(try await HubNamingTests.name(f.store, f.actor, [HubNamingTests.write(HubNamingTests.created, ids: &ids)])[0])
        var source = WriteIDSource()
        let floods = (0..<12).map { _ in
            PendingWrite(
                id: ids.next(), values: ["decisions": .string("flood")], context: VersionVector([f.actor: created.dot.counter]),
                after: (0..<1_000).map { _ in source.next() }, enteredAt: 3, author: "Ana")
        }
        let flooded = try await HubNamingTests.name(f.store, f.actor, floods, push: "p2")
        let refusedCount = flooded.filter { if case .refused = $0 { return true } else { return false } }.count
        #expect(refusedCount == 2, "10 writes of 1,000 reservations each fit; the other 2 are refused")
        let reserved = try await f.store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM writes WHERE entered_at IS NULL") ?? 0 }
        #expect(reserved <= 10_000)
    }
}

