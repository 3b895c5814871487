import Foundation
import MufakatCore
import MufakatSync
import Testing
@testable import MufakatStore

/// A hub restored from a backup takes back its lost writes from any laptop that holds them,
/// by voucher, and nothing else (protocol 5, PROTOCOL.md §13.4).
@Suite("Hub store: relays to a restored hub, by voucher")
struct RelayTests {
    typealias F = HubNamingTests

    /// A hub that named a write after a backup was taken, and that backup opened as the
    /// restored hub with a new incarnation.
    struct Restored {
        var lost: ReplicatedRecord
        var original: HubStore
        var restored: HubStore
        var restoredActor: ReplicaID
        var lostDot: Dot
    }

    static func restoredHub() async throws -> Restored {
        let f = try await F.fixture()
        var ids = WriteIDSource()
        let created = try F.named(try await F.name(f.store, f.actor, [F.write(F.created, ids: &ids)])[0])
        let backup = FileManager.default.temporaryDirectory.appendingPathComponent("relay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: backup, withIntermediateDirectories: true)
        _ = try f.store.backup(to: backup.appendingPathComponent(HubStore.fileName).path)
        // After the backup: a second write, which the restored hub will lack.
        let context = VersionVector([f.actor: created.dot.counter])
        let later = try F.named(try await F.name(
            f.store, f.actor, [F.write(["decisions": .string("Letter by 15 December")], context: context, ids: &ids)], push: "p2")[0])
        #expect(later.exact)
        let state = try #require(try F.state(f.store))
        let voucher = try #require(later.voucher)
        // The record as the feed serves it: the state, its writes' tags, the voucher over both.
        let line = try #require(try await f.store.changes(since: 0, limit: 10, for: try ReplicaID(F.replica), vouchers: true).lines.first)
        let served = try Array(line.utf8).withUnsafeBytes { try ReplicatedRecord.decode(utf8: $0, form: .compact) }
        #expect(served.state == state && served.voucher == voucher)
        #expect(served.tags?.count == 2, "the tags of both writes")
        #expect(try f.store.verifyVoucher(voucher, collection: "meetings", id: F.meeting, state: state, tags: served.tags ?? [:]))
        #expect(try !f.store.verifyVoucher(voucher, collection: "meetings", id: F.meeting, state: state), "the voucher covers the tags")
        let restored = try HubStore.open(directory: backup.path)
        let actor = try restored.startIncarnation().actor
        return Restored(lost: served, original: f.store, restored: restored, restoredActor: actor, lostDot: later.dot)
    }

    @Test("a vouched state comes back whole, once; a write on top of it is then named, not refused")
    func vouchedStateComesBack() async throws {
        let r = try await Self.restoredHub()
        let replica = try ReplicaID(F.replica)
        #expect(try F.state(r.restored)?.displayValue(of: "decisions") == nil)

        // Before the relay, a write made on the lost state names a dot the restored hub
        // never issued: refused, so it cannot hide the lost write as seen.
        var ids = WriteIDSource()
        let onLost = F.write(["decisions": .string("Letter by 20 December")], context: r.lost.state.context, ids: &ids)
        guard case .refused(let early) = try await F.name(r.restored, r.restoredActor, [onLost], push: "p3")[0] else {
            Issue.record("a context beyond the restored hub was named")
            return
        }
        #expect(early.code == .counterBeyond)

        let first = try await r.restored.relay([r.lost], from: replica)
        #expect(first.merged == 1 && first.unchanged == 0 && first.rejected.isEmpty)
        #expect(try F.state(r.restored) == r.lost.state)
        let again = try await r.restored.relay([r.lost], from: replica)
        #expect(again.merged == 0 && again.unchanged == 1)
        #expect(again.sequence == first.sequence)

        // The held counter of the lost run is known now: the same write is named on top.
        let name = try F.named(try await F.name(r.restored, r.restoredActor, [onLost], push: "p4")[0])
        #expect(name.dot.replica == r.restoredActor)
        let after = try #require(try F.state(r.restored))
        #expect(after.fields["decisions"]?.map(\.value) == [.string("Letter by 20 December")])
        // welcome still reports what the file itself named of that run: a relay of this
        // record proves nothing about another record's lost write of the same run.
        #expect(try await r.restored.namingView().held[r.lostDot.replica.rawValue] == r.lostDot.counter - 1)
    }

    @Test("a changed value, a forged or missing voucher, or another record's voucher is refused and changes nothing")
    func forgeriesAreRefused() async throws {
        let r = try await Self.restoredHub()
        let replica = try ReplicaID(F.replica)
        let before = try r.restored.digest()
        var changed = r.lost
        var fields = changed.state.fields
        fields["decisions"] = fields["decisions"]!.map { var entry = $0; entry.value = .string("Letter by 1 January"); return entry }
        changed.state = try RecordState(context: changed.state.context, fields: fields)
        var forged = r.lost
        forged.voucher = "AAAAAAAAAAAAAAAA"
        var unvouched = r.lost
        unvouched.voucher = nil
        var moved = r.lost
        moved.id = "mtg-april"
        // A tag tied to another dot would make the hub answer a later push of that write
        // with a dot that is not its own: the voucher covers the tags.
        var retagged = r.lost
        retagged.tags = Dictionary(uniqueKeysWithValues: (r.lost.tags ?? [:]).map { ($0.key, "0123456789abcdef0123456789abcdef-1") })
        let result = try await r.restored.relay([changed, forged, unvouched, moved, retagged], from: replica)
        #expect(result.merged == 0)
        #expect(result.rejected.map(\.rejection.code) == [.unvouched, .unvouched, .unvouched, .unvouched, .unvouched])
        #expect(try r.restored.digest() == before)
        // Another hub's voucher (its own key) is no voucher here.
        let stranger = try await F.fixture()
        let key = try await stranger.store.namingView()
        #expect(!key.incarnations.isEmpty)
        let strangerVoucher = try stranger.store.voucher(collection: "meetings", id: F.meeting, state: r.lost.state, tags: r.lost.tags ?? [:])
        var foreign = r.lost
        foreign.voucher = strangerVoucher
        #expect(try await r.restored.relay([foreign], from: replica).rejected.map(\.rejection.code) == [.unvouched])
    }

    @Test("a write a copy pushes again after the restore is the same write as the one relayed: held once, whichever comes first")
    func tagsKeepOneWrite() async throws {
        let replica = try ReplicaID(F.replica)
        for relayFirst in [true, false] {
            let f = try await F.fixture()
            var ids = WriteIDSource()
            let created = F.write(F.created, ids: &ids)
            _ = try await F.name(f.store, f.actor, [created])
            let backup = FileManager.default.temporaryDirectory.appendingPathComponent("relay-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: backup, withIntermediateDirectories: true)
            _ = try f.store.backup(to: backup.appendingPathComponent(HubStore.fileName).path)
            // Named after the backup; a colleague pulled it; the writer's copy of the folder
            // never got the answer and still holds it pending.
            let lost = F.write(["decisions": .string("Letter by 15 December")], ids: &ids)
            _ = try await F.name(f.store, f.actor, [lost], push: "p2")
            let line = try #require(try await f.store.changes(since: 0, limit: 10, for: replica, vouchers: true).lines.first)
            let pulled = try Array(line.utf8).withUnsafeBytes { try ReplicatedRecord.decode(utf8: $0, form: .compact) }
            let restored = try HubStore.open(directory: backup.path)
            let actor = try restored.startIncarnation().actor
            if relayFirst {
                #expect(try await restored.relay([pulled], from: replica).merged == 1)
                let again = try F.named(try await F.name(restored, actor, [lost], push: "p3")[0])
                #expect(again.earlier, "the relay taught the hub the write's tag")
            } else {
                _ = try F.named(try await F.name(restored, actor, [lost], push: "p3")[0])
                #expect(try await restored.relay([pulled], from: replica).merged == 1)
            }
            let decisions = try #require(try F.state(restored)?.fields["decisions"])
            #expect(decisions.map(\.value) == [.string("Letter by 15 December")], "relay \(relayFirst ? "first" : "second"): held once")
        }
    }

    /// A meeting as a hub (then lost with its key) served it before and after naming `lost` on
    /// it: what the original folder pulled, the write, and what its copy holds once named.
    static func lostWithItsHub() async throws -> (original: ReplicatedRecord, lost: PendingWrite, copy: ReplicatedRecord) {
        let replica = try ReplicaID(F.replica)
        let f = try await F.fixture(role: .coordinator)
        var ids = WriteIDSource()
        let created = try F.named(try await F.name(f.store, f.actor, [F.write(F.created, ids: &ids)])[0])
        func served() async throws -> ReplicatedRecord {
            let line = try #require(try await f.store.changes(since: 0, limit: 10, for: replica, vouchers: true).lines.first)
            return try Array(line.utf8).withUnsafeBytes { try ReplicatedRecord.decode(utf8: $0, form: .compact) }
        }
        let original = try await served()
        let lost = F.write(["decisions": .string("Letter by 15 December")], context: VersionVector([f.actor: created.dot.counter]), ids: &ids)
        _ = try await F.name(f.store, f.actor, [lost], push: "p2")
        return (original, lost, try await served())
    }

    /// Found by the simulation: a folder copied with a pending write, the copy's sync got it
    /// named, the hub was rebuilt empty, and the original sent the write again. Re-seed mode
    /// learns the lost writes' tags from the relayed (unvouched) state, so it is held once.
    @Test("a hub rebuilt empty in re-seed mode holds a write once that one copy relays and the other sends again, whichever comes first")
    func reseedTagsKeepOneWrite() async throws {
        let replica = try ReplicaID(F.replica)
        for relayFirst in [true, false] {
            // The original folder pulled the meeting, then wrote on it; its copy got the write named.
            let (original, lost, copy) = try await Self.lostWithItsHub()
            // A new hub, a new key: the vouchers are worthless there.
            let rebuilt = try await F.fixture(role: .coordinator)
            if relayFirst {
                #expect(try await rebuilt.store.relay([copy], from: replica, reseed: true).merged == 1)
                #expect(try await rebuilt.store.relay([original], from: replica, reseed: true).merged == 0)
                let again = try F.named(try await F.name(rebuilt.store, rebuilt.actor, [lost], push: "p3")[0])
                #expect(again.earlier, "the relay taught the hub the write's tag")
            } else {
                // The original relays what it pulled, then sends its pending write; the copy relays after.
                #expect(try await rebuilt.store.relay([original], from: replica, reseed: true).merged == 1)
                _ = try F.named(try await F.name(rebuilt.store, rebuilt.actor, [lost], push: "p3")[0])
                #expect(try await rebuilt.store.relay([copy], from: replica, reseed: true).merged == 1)
            }
            let decisions = try #require(try F.state(rebuilt.store)?.fields["decisions"])
            #expect(decisions.map(\.value) == [.string("Letter by 15 December")], "relay \(relayFirst ? "first" : "second"): held once")
        }
    }

    /// An outside review: a re-seed relay the hub refuses must teach it no tag, or the write
    /// under that tag, sent again by its author, is answered "named earlier" and never stored.
    @Test("a refused re-seed relay teaches no tag: the write sent again afterwards is named and stored")
    func refusedReseedRelayTeachesNothing() async throws {
        let replica = try ReplicaID(F.replica)
        var (original, lost, forged) = try await Self.lostWithItsHub()
        let rebuilt = try await F.fixture(role: .coordinator)
        // The copy's state, with a claim on the new hub's own run: refused as counter-beyond.
        var counters = forged.state.context.counters
        counters[rebuilt.actor] = 99
        forged.state = try RecordState(context: VersionVector(counters), fields: forged.state.fields)
        let refused = try await rebuilt.store.relay([forged], from: replica, reseed: true)
        #expect(refused.rejected.map(\.rejection.code) == [.counterBeyond])
        #expect(try await rebuilt.store.relay([original], from: replica, reseed: true).merged == 1)
        let again = try F.named(try await F.name(rebuilt.store, rebuilt.actor, [lost], push: "p3")[0])
        #expect(!again.earlier, "the refused relay taught the hub the write's tag")
        #expect(try F.state(rebuilt.store)?.fields["decisions"]?.map(\.value) == [.string("Letter by 15 December")])
    }

    /// A re-check by an outside reviewer: a write replaced before the restore, pushed again
    /// by a copy after it, came back as a conflict, its tag gone with its entry.
    @Test("a write replaced before the restore and pushed again by a copy after it stays replaced")
    func replacedWriteStaysReplaced() async throws {
        let replica = try ReplicaID(F.replica)
        let f = try await F.fixture()
        var ids = WriteIDSource()
        let created = try F.named(try await F.name(f.store, f.actor, [F.write(F.created, ids: &ids)])[0])
        let backup = FileManager.default.temporaryDirectory.appendingPathComponent("relay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: backup, withIntermediateDirectories: true)
        _ = try f.store.backup(to: backup.appendingPathComponent(HubStore.fileName).path)
        let context = VersionVector([f.actor: created.dot.counter])
        let first = F.write(["decisions": .string("W")], context: context, ids: &ids)
        let w = try F.named(try await F.name(f.store, f.actor, [first], push: "p2")[0])
        _ = try F.named(try await F.name(
            f.store, f.actor, [F.write(["decisions": .string("X")], context: VersionVector([f.actor: w.dot.counter]), ids: &ids)],
            push: "p3")[0])
        let line = try #require(try await f.store.changes(since: 0, limit: 10, for: replica, vouchers: true).lines.first)
        let pulled = try Array(line.utf8).withUnsafeBytes { try ReplicatedRecord.decode(utf8: $0, form: .compact) }
        #expect(pulled.tags?[w.dot] == first.id.tag, "the replaced write's tag is still served")
        let restored = try HubStore.open(directory: backup.path)
        let actor = try restored.startIncarnation().actor
        #expect(try await restored.relay([pulled], from: replica).merged == 1)
        let again = try F.named(try await F.name(restored, actor, [first], push: "p4")[0])
        #expect(again.earlier && again.dot == w.dot)
        #expect(try F.state(restored)?.fields["decisions"]?.map(\.value) == [.string("X")])
    }

    @Test("re-seed mode trusts a relayer for writes the file lost, never for its own runs: a state claiming this run's future dots is refused")
    func reseedKeepsOwnRuns() async throws {
        let f = try await F.fixture(role: .coordinator)
        var ids = WriteIDSource()
        _ = try await F.name(f.store, f.actor, [F.write(F.created, ids: &ids)])
        var forged = RecordState()
        try forged.write(
            ["title": .string("Forged"), "date": .string("2026-03-05")], dot: Dot(replica: f.actor, counter: 9), now: 1, author: "Someone Else")
        let replica = try ReplicaID(F.replica)
        let before = try f.store.digest()
        let result = try await f.store.relay(
            [ReplicatedRecord(collection: "meetings", id: F.meeting, state: forged)], from: replica, reseed: true)
        #expect(result.rejected.map(\.rejection.code) == [.counterBeyond])
        #expect(try f.store.digest() == before)
        // The next honest write is still named.
        _ = try F.named(try await F.name(
            f.store, f.actor, [F.write(["decisions": .string("ok")], context: VersionVector([f.actor: 1]), ids: &ids)], push: "p2")[0])
    }
}

