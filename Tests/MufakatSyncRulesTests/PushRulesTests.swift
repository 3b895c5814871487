import MufakatCore
import MufakatSync
import Testing

@Suite("What the hub accepts of a pushed record")
struct PushRulesTests {
    let me = try! ReplicaID("aaaa")
    let other = try! ReplicaID("bbbb")
    let rules = PushRules()

    func record(_ state: RecordState, id: String = "gov:ask-1") -> ReplicatedRecord {
        ReplicatedRecord(collection: "positions", id: id, state: state)
    }

    /// The hub's state: `other` wrote statement and source, `me` wrote stance on top.
    func stored() throws -> RecordState {
        var state = RecordState()
        try state.write(["statement": .string("said"), "source": .string("letter")], dot: Dot(replica: other, counter: 1), now: 10, author: "B")
        try state.write(["stance": .string("Neutral")], dot: Dot(replica: me, counter: 1), now: 20, author: "A")
        return state
    }

    @Test("an honest edit is stored; a resend is unchanged")
    func honest() throws {
        let hub = try stored()
        var mine = hub
        try mine.write(["stance": .string("ActiveSupport")], dot: Dot(replica: me, counter: 2), now: 30, author: "A")
        guard case .store(let merged) = rules.admit(record(mine), stored: hub, pusher: me, counter: 2) else {
            Issue.record("refused an honest edit"); return
        }
        #expect(merged == mine)
        #expect(rules.admit(record(hub), stored: hub, pusher: me, counter: 1) == .unchanged)
    }

    @Test("hostile and broken records are refused with their code, naming fields, never values", arguments: [
        "context-only", "field-left-out", "own-counter-max", "own-counter-above-declared", "above-2^63", "forged",
        "reused-dot", "unknown-field", "no-fields", "time-2^63", "time-negative", "author-600KB", "too-large",
    ])
    func hostile(_ kind: String) throws {
        let hub = try stored()
        var state = hub
        var counter: UInt64 = 1
        let expected: RecordRejection.Code
        switch kind {
        case "context-only":
            state = try RecordState(context: hub.context, fields: [:])
            expected = .invalid
        case "field-left-out":
            state = try RecordState(context: hub.context, fields: ["stance": hub.fields["stance"]!])
            expected = .removesEntry
        case "own-counter-max":
            try state.write(["stance": .string("Unknown")], dot: Dot(replica: me, counter: UInt64.max), now: 30, author: "A")
            counter = UInt64.max
            expected = .counterBeyond
        case "own-counter-above-declared":
            try state.write(["stance": .string("Unknown")], dot: Dot(replica: me, counter: 9), now: 30, author: "A")
            counter = 5
            expected = .counterBeyond
        case "above-2^63":
            try state.write(["stance": .string("Unknown")], dot: Dot(replica: other, counter: Counters.maxCounter + 1), now: 30, author: "A")
            expected = .counterBeyond
        case "forged":
            try state.write(["stance": .string("Unknown")], dot: Dot(replica: other, counter: 2), now: 30, author: "B")
            expected = .forgedDot
        case "reused-dot":
            // Same dot as the hub's stance, another write (a twin copy of the folder).
            state = try RecordState(context: hub.context, fields: hub.fields.merging(
                ["stance": [FieldEntry(dot: Dot(replica: me, counter: 1), value: .string("Unknown"), time: 25, author: "A")]]) { $1 })
            expected = .corruption
        case "unknown-field":
            try state.write(["colour": .string("crimsonxq")], dot: Dot(replica: me, counter: 2), now: 30, author: "A")
            counter = 2
            expected = .invalid
        case "time-2^63":
            try state.write(["stance": .string("Unknown")], dot: Dot(replica: me, counter: 2), now: Int64.max, author: "A")
            counter = 2
            expected = .invalid
        case "time-negative":
            state = try RecordState(context: hub.context.merging([me: 2]), fields: hub.fields.merging(
                ["stance": [FieldEntry(dot: Dot(replica: me, counter: 2), value: .string("Unknown"), time: -5, author: "A")]]) { $1 })
            counter = 2
            expected = .invalid
        case "author-600KB":
            try state.write(["stance": .string("Unknown")], dot: Dot(replica: me, counter: 2), now: 30, author: String(repeating: "x", count: 600_000))
            counter = 2
            expected = .invalid
        case "too-large":
            // Many concurrent writes of long statements pile up in one field.
            var fields = hub.fields
            var context = hub.context
            fields["statement"] = (1...40).map { index in
                FieldEntry(dot: Dot(replica: me, counter: UInt64(index + 1)), value: .string(String(repeating: "é", count: 5_000)), time: 30, author: "A")
            }
            context[me] = 41
            state = try RecordState(context: context, fields: fields)
            counter = 41
            expected = .invalid
        default:
            state = RecordState()
            expected = .invalid
        }
        guard case .reject(let rejection) = rules.admit(record(state), stored: hub, pusher: me, counter: counter) else {
            Issue.record("\(kind) was accepted"); return
        }
        #expect(rejection.code == expected)
        #expect(!rejection.reason.contains("Unknown") && !rejection.reason.contains("crimsonxq"), "no values in \(rejection.reason)")
        if kind == "field-left-out" { #expect(rejection.fields == ["source", "statement"]) }
        if kind == "unknown-field" { #expect(rejection.fields == ["colour"]) }
    }

    @Test("re-seed mode relays other replicas' unseen writes, and still refuses removals")
    func relay() throws {
        let hub = try stored()
        var relayed = hub
        try relayed.write(["stance": .string("Unknown")], dot: Dot(replica: other, counter: 2), now: 30, author: "B")
        #expect(rules.admit(record(relayed), stored: hub, pusher: me, counter: 1) != .unchanged)
        guard case .store = PushRules(relay: true).admit(record(relayed), stored: hub, pusher: me, counter: 1) else {
            Issue.record("relay refused"); return
        }
        let erased = try RecordState(context: hub.context, fields: ["stance": hub.fields["stance"]!])
        guard case .reject(let rejection) = PushRules(relay: true).admit(record(erased), stored: hub, pusher: me, counter: 1) else {
            Issue.record("relay erased values"); return
        }
        #expect(rejection.code == .removesEntry)
    }

    @Test("a relayed write older than an entry cannot remove it: the context names that dot for a twin's other write")
    func olderWriteCannotRemove() throws {
        let twin = try ReplicaID("cccc")
        // The hub holds a twin's write under cccc:2 in stance, at time 50.
        var hub = try stored()
        try hub.write(["source": .string("twin")], dot: Dot(replica: twin, counter: 2), now: 50, author: "C")
        // A relayer holds the other copy's history: cccc:2 was a write elsewhere, cccc:3 wrote
        // source at time 40, and its context claims cccc:2.
        var relayed = try stored()
        try relayed.write(["source": .string("copy")], dot: Dot(replica: twin, counter: 3), now: 40, author: "C")
        let relay = PushRules(relay: true)
        guard case .reject(let rejection) = relay.admit(record(relayed), stored: hub, pusher: me, counter: 1) else {
            Issue.record("a write older than the entry it would remove was accepted"); return
        }
        #expect(rejection.code == .removesEntry && rejection.fields == ["source"])
        // A later write that saw it replaces it.
        var later = hub
        try later.write(["source": .string("mine")], dot: Dot(replica: me, counter: 2), now: 60, author: "A")
        guard case .store = rules.admit(record(later), stored: hub, pusher: me, counter: 2) else {
            Issue.record("refused an honest overwrite"); return
        }
    }

    /// A laptop restored from a backup and a hub restored from an older snapshot both lost
    /// `cccc:5`, the write of `statement` in gov:ask-1 that a third replica still holds. The
    /// laptop used `cccc:5` again in gov:ask-2, then wrote gov:ask-1 under `cccc:6`, whose
    /// context claims `cccc:5`. Merged, the third replica's write would vanish.
    @Test("a write under a dot the hub stored in another record is refused as reused-dot, naming the dot, never the value")
    func reusedInAnotherRecord() throws {
        let twin = try ReplicaID("cccc")
        let lost = FieldEntry(dot: Dot(replica: twin, counter: 5), value: .string("the lost statement"), time: 40, author: "C")
        var held = try stored()
        held = try RecordState(
            context: held.context.merging([twin: 5]), fields: held.fields.merging(["statement": [lost]]) { $1 })
        var hub = try stored()
        try hub.write(["statement": .string("said again")], dot: Dot(replica: twin, counter: 6), now: 60, author: "C")
        let elsewhere = RecordKey(collection: "positions", id: "gov:ask-2")
        let here = RecordKey(collection: "positions", id: "gov:ask-1")
        // Without the index the write is dropped in silence: the hub's context claims it.
        #expect(rules.admit(record(held), stored: hub, pusher: me, counter: 1) == .unchanged)
        guard case .reject(let rejection) = rules.admit(
            record(held), stored: hub, pusher: me, counter: 1, owner: { $0 == lost.dot ? elsewhere : nil })
        else {
            Issue.record("a write under a reused dot was merged away"); return
        }
        #expect(rejection.code == .reusedDot)
        #expect(rejection.dots == [lost.dot] && rejection.fields == ["statement"])
        #expect(!rejection.reason.contains("lost statement"))
        // The dot's own record is no evidence: that is the hub's copy of this very write.
        #expect(rules.admit(record(held), stored: hub, pusher: me, counter: 1, owner: { _ in here }) == .unchanged)
        // In re-seed mode, a relayed record new to the hub is checked too.
        guard case .reject(let relayed) = PushRules(relay: true).admit(
            record(held, id: "gov:ask-3"), stored: nil, pusher: me, counter: 1, owner: { $0 == lost.dot ? elsewhere : nil })
        else {
            Issue.record("a relayed write under a reused dot was stored"); return
        }
        #expect(relayed.code == .reusedDot)
    }

    @Test("a record holding the greatest time there is can still be written, without overflow")
    func greatestTime() throws {
        var state = RecordState()
        try state.write(["stance": .string("Neutral")], dot: Dot(replica: other, counter: 1), now: Int64.max, author: "B")
        try state.write(["stance": .string("Unknown")], dot: Dot(replica: me, counter: 1), now: 10, author: "A")
        #expect(state.document["stance"] == .string("Unknown"))
    }

    @Test("lengths count Unicode scalar values: one letter with 10,000 combining marks is refused as 10,001 characters, saying why")
    func combiningMarks() {
        let text = "a" + String(repeating: "\u{0301}", count: 10_000)
        guard case .failure(let failure) = FieldType.text.parse(text) else {
            Issue.record("accepted one character of 20 kB"); return
        }
        #expect(failure.message(for: text).contains("10001 characters long (Unicode scalar values"))
        #expect(!FieldType.text.isCanonical(.string(text)))
        #expect(FieldType.text.isCanonical(.string(String(text.unicodeScalars.dropLast().map(Character.init)))))
        #expect(!FieldType.string.isCanonical(.string("a" + String(repeating: "\u{0301}", count: 200))))
    }
}
