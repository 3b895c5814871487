import MufakatCore
import MufakatSync
import Testing

@Suite("Taking a new replica id")
struct IncarnationTests {
    let old = try! ReplicaID("aaaa")
    let new = try! ReplicaID("cccc")
    let other = try! ReplicaID("bbbb")
    let key = RecordKey(collection: "positions", id: "gov:ask-1")

    func local(_ state: RecordState, acked: UInt64 = 0) -> LocalRecord {
        LocalRecord(collection: key.collection, id: key.id, state: state, seq: state.context[old], acked: acked)
    }

    @Test("a restored copy's unsynced write is written again under the new id; the hub's own copy of a synced write is not")
    func restored() throws {
        // Hub: the old id wrote statement (1), then, after the backup, influence (2).
        var hub = RecordState()
        try hub.write(["statement": .string("said")], dot: Dot(replica: old, counter: 1), now: 10, author: "A")
        var backup = hub
        try hub.write(["influence": .string("High")], dot: Dot(replica: old, counter: 2), now: 20, author: "A")
        // The restored backup writes stance under the reused dot 2.
        try backup.write(["stance": .string("Unknown")], dot: Dot(replica: old, counter: 2), now: 30, author: "A")
        let entry = try #require(try Incarnation.extract(local(backup), from: old))
        #expect(entry.entries.keys.sorted() == ["stance", "statement"])
        let pulled = try entry.base.merging(hub)
        let result = try Incarnation.replay([entry], onto: [key: pulled], as: new, after: 0)
        #expect(result.writes.compactMap(\.newDot) == [Dot(replica: new, counter: 1)])
        let state = try #require(result.states[key])
        #expect(state.document["stance"] == .string("Unknown"))
        #expect(state.document["influence"] == .string("High"))
        #expect(state.document["statement"] == .string("said"))
        #expect(state.fields["statement"]?.count == 1, "the synced write is not written twice")
        #expect(state.fields["stance"]?.first?.time == 30, "time and author kept")
        // Merging into the hub loses nothing the hub had.
        let onHub = try hub.merging(state)
        #expect(onHub.document["influence"] == .string("High"))
        #expect(onHub.document["stance"] == .string("Unknown"))
    }

    @Test("the replay clean-up keeps an entry under an old dot the journal holds as this copy's write in another record")
    func twinEntryUnderOwnDotElsewhere() throws {
        let elsewhere = RecordKey(collection: "positions", id: "gov:ask-2")
        // The hub: `other` wrote source (5); a twin copy of `old` wrote source beside it as
        // aaaa:1, before this copy's context could name it.
        var hub = RecordState()
        try hub.write(["source": .string("theirs")], dot: Dot(replica: other, counter: 5), now: 50, author: "B")
        var twin = RecordState()
        try twin.write(["source": .string("twin")], dot: Dot(replica: old, counter: 1), now: 40, author: "A")
        hub = try hub.merging(twin)
        // This copy used aaaa:1 in another record, then aaaa:2 here: its context claims
        // aaaa:1 here, a write it never saw (its own aaaa:1 is in `elsewhere`).
        var mine = RecordState()
        try mine.write(["source": .string("theirs")], dot: Dot(replica: other, counter: 5), now: 50, author: "B")
        try mine.write(["statement": .string("mine")], dot: Dot(replica: old, counter: 2), now: 60, author: "A")
        var other1 = RecordState()
        try other1.write(["statement": .string("first")], dot: Dot(replica: old, counter: 1), now: 30, author: "A")
        let entry = try #require(try Incarnation.extract(local(mine), from: old))
        let otherEntry = try #require(try Incarnation.extract(
            LocalRecord(collection: elsewhere.collection, id: elsewhere.id, state: other1, seq: 1), from: old))
        let pulled = try entry.base.merging(hub)
        let result = try Incarnation.replay(
            [entry, otherEntry], onto: [key: pulled, elsewhere: otherEntry.base], as: new, after: 0)
        let state = try #require(result.states[key])
        #expect(Set(state.fields["source"]!.map(\.value)) == [.string("theirs"), .string("twin")],
            "the twin's entry stays: the hub holds it, and a push without it is refused removes-entry")
        #expect(state.document["statement"] == .string("mine"))
    }

    @Test("a state stored before 0.6 with one dot under two spellings of its author is judged alike every time")
    func legacyTwoSpellings() throws {
        let dot = Dot(replica: old, counter: 1)
        let legacy = try RecordState(context: VersionVector([old: 1]), fields: [
            "name": [FieldEntry(dot: dot, value: .string("Uni"), time: 5, author: "Jos\u{E9}")],
            "type": [FieldEntry(dot: dot, value: .string("NGO"), time: 5, author: "Jose\u{301}")],
        ])
        #expect(Incarnation.stampsOneDotTwice(legacy))
        var edited = legacy
        try edited.write(["website": .string("uni.example")], dot: Dot(replica: new, counter: 1), now: 9, author: "B")
        // Whichever field a dictionary walks first, the held entries are not taken for a reuse.
        for _ in 0..<20 {
            #expect(Incarnation.reusedDots(legacy, edited).isEmpty)
            #expect(Incarnation.reusedDots(edited, legacy).isEmpty)
        }
        let respelled = try RecordState(context: VersionVector([old: 1]), fields: [
            "name": [FieldEntry(dot: dot, value: .string("Uni"), time: 5, author: "Jos\u{E9}")],
            "type": [FieldEntry(dot: dot, value: .string("NGO"), time: 5, author: "Jos\u{E9}!")],
        ])
        #expect(Incarnation.reusedDots(legacy, respelled) == [dot])
    }

    @Test("two copies that wrote the same field under the same dot end as a conflict, both kept")
    func twins() throws {
        var base = RecordState()
        try base.write(["stance": .string("Neutral")], dot: Dot(replica: old, counter: 1), now: 10, author: "A")
        var first = base
        var second = base
        try first.write(["stance": .string("ActiveSupport")], dot: Dot(replica: old, counter: 2), now: 20, author: "A")
        try second.write(["stance": .string("PassiveSupport")], dot: Dot(replica: old, counter: 2), now: 25, author: "A")
        #expect(Incarnation.reusedDots(first, second) == [Dot(replica: old, counter: 2)])
        // The first copy's write is on the hub; the second copy takes a new id.
        let entry = try #require(try Incarnation.extract(local(second), from: old))
        let pulled = try entry.base.merging(first)
        let result = try Incarnation.replay([entry], onto: [key: pulled], as: new, after: 0)
        let state = try #require(result.states[key])
        #expect(Set(state.fields["stance"]!.map(\.value)) == [.string("ActiveSupport"), .string("PassiveSupport")])
        #expect(state.conflicts.map(\.field) == ["stance"])
    }

    @Test("a pulled entry under a dot this replica claims without holding it or anything as new comes in; what it held under a twin's dot is written again")
    func claimedUnseen() throws {
        // This replica holds a write of `other` (bbbb:3, source) from one copy of bbbb;
        // that copy had used bbbb:2 in another record, so the context claims it.
        var local = RecordState()
        try local.write(["statement": .string("said")], dot: Dot(replica: new, counter: 1), now: 10, author: "C")
        var fromCopy = RecordState()
        try fromCopy.write(["source": .string("copy")], dot: Dot(replica: other, counter: 3), now: 20, author: "B")
        local = try local.merging(fromCopy)
        // The hub holds the other copy's bbbb:2 here: assessedBy, which this replica never saw.
        var hub = RecordState()
        try hub.write(["assessedBy": .string("twin")], dot: Dot(replica: other, counter: 2), now: 30, author: "B")
        #expect(Incarnation.claimedUnseen(by: local, in: hub) == [Dot(replica: other, counter: 2)])
        #expect(try local.merging(hub).fields["assessedBy"] == nil, "a plain merge drops it")
        guard case .merged(let merged, let orphans) = try Incarnation.mergePulled(local, hub, key: key, own: new) else {
            Issue.record("took its own dot for reused"); return
        }
        #expect(merged.document["assessedBy"] == .string("twin"))
        #expect(orphans?.entries["source"]?.first?.value == .string("copy"), "the copy's write is written again")
        // A state that saw the entry and replaced it by a later one is not suspected.
        var overwritten = hub
        try overwritten.write(["assessedBy": .string("later")], dot: Dot(replica: new, counter: 2), now: 40, author: "C")
        #expect(Incarnation.claimedUnseen(by: overwritten, in: hub).isEmpty)
    }

    @Test("a copy taking a new id does not bring back its own write that another replica overwrote")
    func noResurrection() throws {
        // The old id wrote source (1); `other` saw it and overwrote it (later time).
        var state = RecordState()
        try state.write(["source": .string("first")], dot: Dot(replica: old, counter: 1), now: 10, author: "A")
        let hub = state
        try state.write(["source": .string("second")], dot: Dot(replica: other, counter: 1), now: 20, author: "B")
        try state.write(["statement": .string("mine")], dot: Dot(replica: old, counter: 2), now: 30, author: "A")
        // The copy is behind its id: it forgets the old id; the hub (rewound) holds only the
        // first write.
        let entry = try #require(try Incarnation.extract(local(state), from: old))
        let pulled = try entry.base.merging(hub)
        #expect(pulled.fields["source"]?.count == 2, "the forgotten context lets it back in")
        let result = try Incarnation.replay([entry], onto: [key: pulled], as: new, after: 0)
        let after = try #require(result.states[key])
        #expect(after.fields["source"]?.map(\.value) == [.string("second")])
        #expect(after.document["statement"] == .string("mine"))
    }

    @Test("the replay clean-up keeps an entry the hub holds beside this copy's own later write, written again by a twin")
    func twinHeldBeside() throws {
        let twinID = try ReplicaID("dddd")
        // This copy wrote source "first" (aaaa:1), then "second" (aaaa:2) over it.
        var state = RecordState()
        try state.write(["source": .string("first")], dot: Dot(replica: old, counter: 1), now: 10, author: "A")
        try state.write(["source": .string("second")], dot: Dot(replica: old, counter: 2), now: 20, author: "A")
        // The hub holds "first" under aaaa:1 and, beside it, "second" written again by a twin
        // copy under its new id (its context had not seen aaaa:1).
        var hub = RecordState()
        try hub.write(["source": .string("first")], dot: Dot(replica: old, counter: 1), now: 10, author: "A")
        var twin = RecordState()
        try twin.write(["source": .string("second")], dot: Dot(replica: twinID, counter: 1), now: 20, author: "A")
        hub = try hub.merging(twin)
        let entry = try #require(try Incarnation.extract(local(state), from: old))
        let pulled = try entry.base.merging(hub)
        let result = try Incarnation.replay([entry], onto: [key: pulled], as: new, after: 0)
        #expect(result.writes.compactMap(\.newDot).isEmpty, "the hub holds the write already")
        let after = result.states[key] ?? pulled
        // Dropping "first" here would make every push of the record refused removes-entry.
        #expect(after == hub)
    }

    @Test("a write overwritten on the hub by someone who saw it is not brought back")
    func overwritten() throws {
        var mine = RecordState()
        try mine.write(["stance": .string("Neutral")], dot: Dot(replica: old, counter: 1), now: 10, author: "A")
        var hub = mine
        try hub.write(["stance": .string("ActiveSupport")], dot: Dot(replica: other, counter: 1), now: 20, author: "B")
        // The hub had acknowledged it (this copy knew): overwritten, not brought back.
        let entry = try #require(try Incarnation.extract(local(mine, acked: 1), from: old))
        let result = try Incarnation.replay([entry], onto: [key: try entry.base.merging(hub)], as: new, after: 0)
        #expect(result.writes.compactMap(\.newDot).isEmpty)
        #expect(result.states.isEmpty)
    }

    @Test("a write the hub never acknowledged, under a dot its context names only because a twin used it elsewhere, is written again")
    func vacuousContext() throws {
        // The twin wrote counter 1 on another record, then counter 2 here: the hub's context
        // for this record says old:2, so it "contains" old:1 without holding any write of it.
        var hub = RecordState()
        try hub.write(["source": .string("twin")], dot: Dot(replica: old, counter: 2), now: 20, author: "A")
        try hub.write(["statement": .string("later")], dot: Dot(replica: other, counter: 1), now: 30, author: "B")
        var mine = RecordState()
        try mine.write(["statement": .string("mine")], dot: Dot(replica: old, counter: 1), now: 10, author: "A")
        let entry = try #require(try Incarnation.extract(local(mine), from: old))
        let result = try Incarnation.replay([entry], onto: [key: try entry.base.merging(hub)], as: new, after: 0)
        let state = try #require(result.states[key])
        #expect(Set(state.fields["statement"]!.map(\.value)) == [.string("mine"), .string("later")])
    }

    @Test("a field written anew after the journal was taken keeps the newer write")
    func newerLocalWrite() throws {
        var mine = RecordState()
        try mine.write(["stance": .string("Neutral"), "influence": .string("Low")], dot: Dot(replica: old, counter: 1), now: 10, author: "A")
        let entry = try #require(try Incarnation.extract(local(mine), from: old))
        var current = entry.base
        try current.write(["stance": .string("Unknown")], dot: Dot(replica: new, counter: 1), now: 30, author: "A")
        let result = try Incarnation.replay([entry], onto: [key: current], as: new, after: 1)
        let state = try #require(result.states[key])
        #expect(state.document["stance"] == .string("Unknown"))
        #expect(state.document["influence"] == .string("Low"))
        #expect(result.writes.first?.supersededBy == Dot(replica: new, counter: 1))
    }

    @Test("a replica out of counters keeps what the hub acknowledged and writes the rest again at once")
    func countersExhausted() throws {
        var mine = RecordState()
        try mine.write(["statement": .string("said")], dot: Dot(replica: old, counter: 1), now: 10, author: "A")
        try mine.write(["stance": .string("Neutral")], dot: Dot(replica: old, counter: 2), now: 20, author: "A")
        let entry = try #require(try Incarnation.extract(local(mine, acked: 1), from: old, forgetting: false))
        #expect(entry.entries.keys.sorted() == ["stance"])
        #expect(entry.base.context[old] == 1)
        let result = try Incarnation.replay([entry], onto: [:], as: new, after: 0, pulled: false)
        let state = try #require(result.states[key])
        #expect(state.document == mine.document)
        #expect(state.fields["statement"]?.first?.dot == Dot(replica: old, counter: 1))
        #expect(state.fields["stance"]?.first?.dot == Dot(replica: new, counter: 1))
    }

    @Test("a reused-dot refusal takes the other replicas' writes under those dots out, to be written again; never its own")
    func takeReused() throws {
        let me = try ReplicaID("aaaa"), twin = try ReplicaID("cccc")
        var state = RecordState()
        try state.write(["statement": .string("lost"), "source": .string("letter")], dot: Dot(replica: twin, counter: 5), now: 40, author: "C")
        try state.write(["stance": .string("Neutral")], dot: Dot(replica: me, counter: 1), now: 50, author: "A")
        let key = RecordKey(collection: "positions", id: "gov:ask-1")
        let taken = try #require(try Incarnation.takeReused(
            state, dots: [Dot(replica: twin, counter: 5), Dot(replica: me, counter: 1)], key: key, own: me))
        #expect(taken.journal.entries.keys.sorted() == ["source", "statement"])
        #expect(taken.kept.fields.keys.sorted() == ["stance"])
        #expect(taken.kept.context == state.context && taken.journal.seen == state.context)
        // Written again once pulled: a new dot of this id, value, time and author kept.
        let replayed = try Incarnation.replay([taken.journal], onto: [key: taken.kept], as: me, after: 1)
        let statement = try #require(replayed.states[key]?.fields["statement"]?.first)
        #expect(statement.dot == Dot(replica: me, counter: 2) && statement.value == .string("lost") && statement.time == 40 && statement.author == "C")
        #expect(try Incarnation.takeReused(state, dots: [Dot(replica: me, counter: 1)], key: key, own: me) == nil)
    }

    @Test("two writes waiting in one field, which never saw each other, are both written again: a conflict, not one lost")
    func twoWaitingInOneField() throws {
        let me = try ReplicaID("aaaa"), old = try ReplicaID("bbbb"), twin = try ReplicaID("cccc")
        let key = RecordKey(collection: "positions", id: "gov:ask-1")
        let orphan = FieldEntry(dot: Dot(replica: twin, counter: 5), value: .string("The ministry will fund shelters"), time: 40, author: "C")
        let mine = FieldEntry(dot: Dot(replica: old, counter: 2), value: .string("Under review"), time: 50, author: "A")
        var waiting = JournalEntry(key: key, base: RecordState(), entries: ["statement": [orphan]], seen: [twin: 5])
        waiting.add(["statement": [mine]])
        waiting.add(["statement": [orphan]])
        #expect(waiting.entries["statement"] == [mine, orphan].sorted { $0.dot < $1.dot }, "kept side by side, once each")
        let state = try waiting.entriesState
        #expect(state.context.contains(orphan.dot) && state.context.contains(mine.dot))
        let replayed = try Incarnation.replay([waiting], onto: [:], as: me, after: 0, pulled: false)
        let values = Set(replayed.states[key]?.fields["statement"]?.map(\.value) ?? [])
        #expect(values == [orphan.value, mine.value])
        #expect(replayed.counter == 2 && replayed.writes.allSatisfy { $0.newDot?.replica == me })
    }
}
