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
        #expect(try f.store.verifyVoucher(voucher, collection: "meetings", id: F.meeting, state: state))
        let restored = try HubStore.open(directory: backup.path)
        let actor = try restored.startIncarnation().actor
        return Restored(
            lost: ReplicatedRecord(collection: "meetings", id: F.meeting, state: state, voucher: voucher), original: f.store,
            restored: restored, restoredActor: actor, lostDot: later.dot)
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
        #expect(try await r.restored.namingView().held[r.lostDot.replica.rawValue] == r.lostDot.counter)
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
        let result = try await r.restored.relay([changed, forged, unvouched, moved], from: replica)
        #expect(result.merged == 0)
        #expect(result.rejected.map(\.rejection.code) == [.unvouched, .unvouched, .unvouched, .unvouched])
        #expect(try r.restored.digest() == before)
        // Another hub's voucher (its own key) is no voucher here.
        let stranger = try await F.fixture()
        let key = try await stranger.store.namingView()
        #expect(!key.incarnations.isEmpty)
        let strangerVoucher = try stranger.store.voucher(collection: "meetings", id: F.meeting, state: r.lost.state)
        var foreign = r.lost
        foreign.voucher = strangerVoucher
        #expect(try await r.restored.relay([foreign], from: replica).rejected.map(\.rejection.code) == [.unvouched])
    }
}
