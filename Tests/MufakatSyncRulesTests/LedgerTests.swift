import MufakatCore
import MufakatSync
import Testing

@Suite("The replica's and the hub's ledgers")
struct LedgerTests {
    let me = try! ReplicaID("aaaa")

    func view(_ ledger: LedgerEntry, hub: String = "hub1", seq: UInt64 = 100) -> HubView {
        HubView(hubID: hub, sequence: seq, ledger: ledger)
    }

    @Test("welcome verdicts: consistent, lost acknowledgement, hub behind, replica behind")
    func verdicts() {
        let synced = ReplicaProgress(
            replica: me, counter: 7, pushedThrough: 7, lastPush: "p7", checkpoint: 40, hubID: "hub1", pushHistory: ["p5"])
        let hubSame = LedgerEntry(counter: 7, through: 7, push: "p7", served: 40)
        #expect(synced.evaluate(view(hubSame)) == .consistent)
        // A fresh replica meeting a fresh hub.
        #expect(ReplicaProgress(replica: me).evaluate(view(.empty, seq: 0)) == .consistent)

        // The push went through, the answer did not.
        var inflight = synced
        inflight.counter = 9
        inflight.inflight = .init(id: "p9", through: 9)
        #expect(inflight.evaluate(view(LedgerEntry(counter: 9, through: 9, push: "p9", served: 40)))
            == .acknowledgementLost(.init(id: "p9", through: 9)))
        // The push never arrived: still consistent.
        #expect(inflight.evaluate(view(hubSame)) == .consistent)
        // After adopting a lost acknowledgement this replica's `through` lags the hub's until
        // it has sent the batch again; a sync cut in between is still consistent.
        var adopted = synced
        adopted.lastPush = "p9"
        #expect(adopted.evaluate(view(LedgerEntry(counter: 7, through: 9, push: "p9", served: 40))) == .consistent)

        // Restored from a backup taken before p7: the hub knows later writes.
        let restored = ReplicaProgress(replica: me, counter: 5, pushedThrough: 5, lastPush: "p5", checkpoint: 30, hubID: "hub1")
        #expect(restored.evaluate(view(hubSame)) == .replicaBehind(.counterBehind(hub: 7, local: 5)))
        // A copy that wrote as much as its twin, which pushed first.
        let twin = ReplicaProgress(replica: me, counter: 7, pushedThrough: 5, lastPush: "p5", checkpoint: 30, hubID: "hub1")
        #expect(twin.evaluate(view(hubSame)) == .replicaBehind(.otherPushes(hubThrough: 7, acknowledged: 5)))

        // The hub restored from a snapshot taken before p7.
        #expect(synced.evaluate(view(LedgerEntry(counter: 5, through: 5, push: "p5", served: 30)))
            == .hubBehind(.lostPushes(hubThrough: 5, acknowledged: 7)))
        // ... or before this replica's first sync.
        #expect(synced.evaluate(view(.empty)) == .hubBehind(.lostPushes(hubThrough: 0, acknowledged: 7)))
        // A replica that only pulls: its checkpoint is beyond what the hub served it.
        let reader = ReplicaProgress(replica: me, checkpoint: 40, hubID: "hub1")
        #expect(reader.evaluate(view(LedgerEntry(served: 20), seq: 500)) == .hubBehind(.lostChanges(hubServed: 20, checkpoint: 40)))
        #expect(reader.evaluate(view(LedgerEntry(served: 40), seq: 35)) == .hubBehind(.lostChanges(hubServed: 35, checkpoint: 40)))
        // A hub rebuilt from an empty folder has another id.
        #expect(synced.evaluate(view(.empty, hub: "hub2", seq: 0)) == .hubBehind(.otherHub(was: "hub1")))
        // ... and may already hold pushes of a twin of this copy, or relayed writes of this
        // id beyond it: then this copy is behind, not the hub.
        #expect(synced.evaluate(view(LedgerEntry(counter: 3, through: 3, push: "q3"), hub: "hub2"))
            == .replicaBehind(.otherPushes(hubThrough: 3, acknowledged: 7)))
        #expect(synced.evaluate(view(LedgerEntry(counter: 9), hub: "hub2")) == .replicaBehind(.counterBehind(hub: 9, local: 7)))
        #expect(synced.evaluate(view(LedgerEntry(counter: 7, through: 7, push: "p7"), hub: "hub2")) == .hubBehind(.otherHub(was: "hub1")))
        // A hub restored from before p7 to which a twin (copied after p5) pushed since:
        // `through` alone would say "hub behind"; the unknown push says "twin".
        #expect(synced.evaluate(view(LedgerEntry(counter: 6, through: 6, push: "q6", served: 30)))
            == .replicaBehind(.otherPushes(hubThrough: 6, acknowledged: 7)))
        var forgotten = synced
        forgotten.pushHistory = []
        #expect(forgotten.evaluate(view(LedgerEntry(counter: 5, through: 5, push: "p5", served: 30)))
            == .replicaBehind(.otherPushes(hubThrough: 5, acknowledged: 7)))
    }

    @Test("a hub found behind leaves the replica's last push in its history: a later snapshot holding it is behind too")
    func hubBehindKeepsHistory() {
        // Synced p7 with hub1; hub1 is rebuilt empty as hub2 (hub behind: the store and the
        // simulation adopt hub2's empty push, keeping p7 among the previous ones).
        var replica = ReplicaProgress(replica: me, counter: 7, pushedThrough: 7, lastPush: "p7", checkpoint: 40, hubID: "hub1")
        #expect(replica.evaluate(view(.empty, hub: "hub2", seq: 0)) == .hubBehind(.otherHub(was: "hub1")))
        replica.pushHistory = replica.history(after: "")
        replica.lastPush = ""
        replica.pushedThrough = 0
        replica.checkpoint = 0
        replica.hubID = "hub2"
        // Then hub1's snapshot holding p7 is restored: a hub behind this replica, not a twin's.
        #expect(replica.evaluate(view(LedgerEntry(counter: 7, through: 7, push: "p7", served: 40), hub: "hub1"))
            == .hubBehind(.otherHub(was: "hub2")))
    }

    @Test("a copy trusts the hub's record of its writes up to its own last push in the hub's history")
    func sharedHistory() {
        var copy = ReplicaProgress(replica: me, counter: 9, pushedThrough: 7, lastPush: "p7", checkpoint: 40, hubID: "hub1")
        copy.pushHistory = ["p3", "p5"]
        // The hub was restored to p5, then a twin pushed q6 and q8 after it.
        let forked = LedgerEntry(counter: 8, through: 8, push: "q8", recent: [
            PushMark(push: "p3", through: 3), PushMark(push: "p5", through: 5), PushMark(push: "q6", through: 6),
            PushMark(push: "q8", through: 8),
        ])
        #expect(copy.sharedThrough(forked) == 5)
        // Its own last push is the hub's: all of it is shared.
        let same = LedgerEntry(counter: 7, through: 7, push: "p7", recent: [PushMark(push: "p5", through: 5), PushMark(push: "p7", through: 7)])
        #expect(copy.sharedThrough(same) == 7)
        // None of its pushes is there (a rebuilt hub, or a history longer than kept): nothing is.
        #expect(copy.sharedThrough(LedgerEntry(counter: 8, through: 8, push: "q8", recent: [PushMark(push: "q8", through: 8)])) == 0)
        #expect(copy.sharedThrough(.empty) == 0)
    }

    @Test("the hub keeps the last 32 pushes of each replica id")
    func recentPushes() {
        var entry = LedgerEntry.empty
        for n in 1...40 {
            let header = PushHeader(through: UInt64(n), id: "p\(n)", after: entry.push, counter: UInt64(n))
            #expect(entry.refusal(of: header) == nil)
            entry = entry.acknowledging(header)
        }
        #expect(entry.recent.count == LedgerEntry.recentLength)
        #expect(entry.recent.first == PushMark(push: "p9", through: 9))
        #expect(entry.recent.last == PushMark(push: "p40", through: 40))
    }

    @Test("the hub's ledger takes a push only after its own last one")
    func compareAndSet() {
        let entry = LedgerEntry(counter: 7, through: 7, push: "p7", served: 0)
        let next = PushHeader(through: 9, id: "p9", after: "p7", counter: 9)
        #expect(entry.refusal(of: next) == nil)
        let acknowledged = entry.acknowledging(next)
        #expect(acknowledged == LedgerEntry(counter: 9, through: 9, push: "p9", served: 0, recent: [PushMark(push: "p9", through: 9)]))
        // The twin's push, made after p7 too, now comes second and is refused.
        let twin = PushHeader(through: 8, id: "q8", after: "p7", counter: 8)
        #expect(acknowledged.refusal(of: twin) == .diverged(expected: "p9", got: "p7"))
        #expect(entry.refusal(of: PushHeader(through: 9, id: "p9", after: "p7", counter: UInt64.max))
            == .counterOutOfRange(UInt64.max))
        #expect(entry.refusal(of: PushHeader(through: 9, id: "P 9", after: "p7", counter: 9)) == .badID("P 9"))
    }
}
