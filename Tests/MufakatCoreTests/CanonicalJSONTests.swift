import Testing
@testable import MufakatCore

@Suite("Canonical JSON and digest")
struct CanonicalJSONTests {
    private func sampleRecord() throws -> ReplicatedRecord {
        var state = RecordState()
        let b = try ReplicaID("b")
        let a = try ReplicaID("a")
        try state.write(["stance": .string("Neutral"), "count": .integer(3)], dot: Dot(replica: b, counter: 1), now: 10, author: "Budi")
        var other = RecordState()
        try other.write(["stance": .string("Ya \"tentu\"\n"), "tags": .list(["x", "y"])], dot: Dot(replica: a, counter: 4), now: 5, author: "Ana")
        try state.merge(other)
        return ReplicatedRecord(collection: "positions", id: "iom:a1", state: state)
    }

    @Test("keys and entries are sorted, no spaces, fixed escapes")
    func exactText() throws {
        let record = try sampleRecord()
        #expect(record.canonicalJSON == #"{"collection":"positions","context":{"a":4,"b":1},"fields":{"count":[{"author":"Budi","dot":["b",1],"time":10,"value":3}],"stance":[{"author":"Ana","dot":["a",4],"time":5,"value":"Ya \"tentu\"\n"},{"author":"Budi","dot":["b",1],"time":10,"value":"Neutral"}],"tags":[{"author":"Ana","dot":["a",4],"time":5,"value":["x","y"]}]},"id":"iom:a1"}"#)
    }

    @Test("the compact form lists each write once, sorted, and entries name it by position")
    func exactCompactText() throws {
        let record = try sampleRecord()
        #expect(record.line(.compact) == #"{"collection":"positions","context":{"a":4,"b":1},"dots":[["a",4,5,"Ana"],["b",1,10,"Budi"]],"fields":{"count":[[1,3]],"stance":[[0,"Ya \"tentu\"\n"],[1,"Neutral"]],"tags":[[0,["x","y"]]]},"id":"iom:a1"}"#)
        // One dot written with two times (a replayed write keeps each field's time) is two writes.
        let a = try ReplicaID("a")
        let state = try RecordState(context: VersionVector([a: 2]), fields: [
            "x": [FieldEntry(dot: Dot(replica: a, counter: 2), value: .string("1"), time: 9, author: "Ana")],
            "y": [FieldEntry(dot: Dot(replica: a, counter: 2), value: .string("2"), time: 7, author: "Ana")],
        ])
        #expect(state.compactJSON == #"{"context":{"a":2},"dots":[["a",2,7,"Ana"],["a",2,9,"Ana"]],"fields":{"x":[[1,"1"]],"y":[[0,"2"]]}}"#)
        #expect(try RecordState(json: state.compactJSON) == state)
    }

    @Test("text equal only by Unicode equivalence (é as one character, or e + U+0301) is two texts, in every form")
    func unicodeEquivalentTexts() throws {
        let composed = "Jos\u{E9}", decomposed = "Jose\u{301}"
        #expect(composed == decomposed)  // Swift's own comparison: why the stores do not use it
        #expect(!composed.utf8Equal(decomposed))
        #expect(FieldValue.string(composed) != .string(decomposed))
        #expect(Set([FieldValue.string(composed), .string(decomposed)]).count == 2)
        let r = try ReplicaID("r")
        // One dot whose fields carry the two spellings of the author (only a crafted or
        // broken writer makes it): two writes in `dots`, each field naming its own.
        let state = try RecordState(context: VersionVector([r: 1]), fields: [
            "name": [FieldEntry(dot: Dot(replica: r, counter: 1), value: .string(composed), time: 5, author: composed)],
            "type": [FieldEntry(dot: Dot(replica: r, counter: 1), value: .string(decomposed), time: 5, author: decomposed)],
        ])
        let compact = state.compactJSON
        #expect(compact == #"{"context":{"r":1},"dots":[["r",1,5,"Jose\#u{301}"],["r",1,5,"Jos\#u{E9}"]],"fields":{"name":[[1,"Jos\#u{E9}"]],"type":[[0,"Jose\#u{301}"]]}}"#)
        let decoded = try RecordState(json: compact)
        #expect(decoded.compactJSON == compact && decoded.canonicalJSON == state.canonicalJSON)
        #expect(decoded.fields["name"]?.first?.author.utf8Equal(composed) == true)
        #expect(decoded.fields["type"]?.first?.author.utf8Equal(decomposed) == true)
        // The same dot with the two spellings in one field is two different writes: corrupt.
        var other = try RecordState(context: VersionVector([r: 1]), fields: [
            "name": [FieldEntry(dot: Dot(replica: r, counter: 1), value: .string(decomposed), time: 5, author: composed)],
        ])
        #expect(throws: MufakatError.self) { try other.merge(state) }
    }

    @Test("the expanded text copied out of a compact one equals the encoder's, whatever the values hold")
    func transcoder() throws {
        let a = try ReplicaID("a"), b = try ReplicaID("b-2")
        var state = RecordState()
        try state.write([
            "quote": .string(#"say "]},[{" \ done"#), "control": .string("line\none\ttab\u{1}"),
            "list": .list(["x", "y]", #"z\""#]), "empty": .list([]), "cleared": .null, "count": .integer(-42),
            "unicode": .string("Jos\u{E9} 😀 /"),
        ], dot: Dot(replica: a, counter: 7), now: 1_764_400_000_000, author: #"Ana "A" (IOM)"#)
        var other = RecordState()
        try other.write(["quote": .string("other"), "flag": .bool(true)], dot: Dot(replica: b, counter: UInt64.max), now: 5, author: "Budi")
        try state.merge(other)
        try state.delete(dot: Dot(replica: a, counter: 8), now: 9, author: "Ana")
        #expect(CompactTranscoder.expanded(stateJSON: state.compactJSON) == state.canonicalJSON)
        #expect(CompactTranscoder.expanded(stateJSON: RecordState().compactJSON) == RecordState().canonicalJSON)
        // What is not canonical compact text is left to the decoder.
        #expect(CompactTranscoder.expanded(stateJSON: state.canonicalJSON) == nil)
        #expect(CompactTranscoder.expanded(stateJSON: state.compactJSON + " ") == nil)
        #expect(CompactTranscoder.expanded(stateJSON: state.compactJSON.replacingOccurrences(of: "[[0,", with: "[[9,")) == nil)
        var digest = StoreDigest(), slow = StoreDigest()
        try digest.add(collection: "asks", id: "a-1", stateJSON: state.compactJSON)
        try slow.add(ReplicatedRecord(collection: "asks", id: "a-1", state: state))
        #expect(digest.hexString == slow.hexString)
    }

    @Test("a stored state's form is told without parsing", arguments: [
        (#"{"context":{"a":4},"dots":[["a",4,5,"Ana"]],"fields":{"x":[[0,"}"]]}}"#, true),
        (#"{"context":{},"dots":[],"fields":{}}"#, true),
        (#"{"context":{"a":4},"fields":{"x":[{"author":"},\"dots\":[","dot":["a",4],"time":5,"value":1}]}}"#, false),
        (#"{"context":{"a":4},"fields":{"dots":[{"author":"A","dot":["a",4],"time":5,"value":1}]}}"#, false),
        ("", false),
    ] as [(String, Bool)])
    func compactSniff(_ text: String, _ compact: Bool) {
        #expect(RecordForm.isCompact(stateJSON: text) == compact)
    }

    @Test("byte order of strings, as canonical text and SQLite sort them", arguments: [
        ("a", "b", true), ("b", "a", false), ("a", "a", false), ("a", "ab", true), ("ab", "a", false), ("", "a", true),
        ("Z", "a", true), ("é", "z", false), ("z", "é", true), ("e\u{301}", "é", true), ("😀", "\u{FFFF}", false),
    ] as [(String, String, Bool)])
    func utf8Order(_ lhs: String, _ rhs: String, _ precedes: Bool) {
        #expect(lhs.utf8Precedes(rhs) == precedes)
        #expect(lhs.utf8Precedes(rhs) == lhs.utf8.lexicographicallyPrecedes(rhs.utf8))
    }

    @Test("control characters use the short escapes or \\u00xx; other text stays UTF-8")
    func stringEscapes() {
        #expect(CanonicalJSON.quoted("a\u{0}b\u{1f}c\u{8}\u{c}\r\t\\/ü€😀\u{7f}") == "\"a\\u0000b\\u001fc\\b\\f\\r\\t\\\\/ü€😀\u{7f}\"")
    }

    @Test("a record line built from stored state text equals the one built from the state")
    func lineFromStoredState() throws {
        let record = try sampleRecord()
        let line = ReplicatedRecord.line(collection: record.collection, id: record.id, stateJSON: record.state.canonicalJSON)
        #expect(line == record.canonicalJSON)
    }

    @Test("non-canonical input is normalized on decode")
    func normalizesOnDecode() throws {
        let messy = #"{ "fields": {"s": [{"value":"x","time":1,"dot":["r",2],"author":""}, {"value":"y","time":1,"dot":["q",1],"author":""}]}, "context": {"r": 2, "q": 1, "z": 0} }"#
        let state = try RecordState(json: messy)
        #expect(state.canonicalJSON == #"{"context":{"q":1,"r":2},"fields":{"s":[{"author":"","dot":["q",1],"time":1,"value":"y"},{"author":"","dot":["r",2],"time":1,"value":"x"}]}}"#)
    }

    @Test("malformed states are refused with a message naming the problem", arguments: [
        (#"{"context":{},"fields":{"s":[{"author":"","dot":["r",1],"time":1,"value":"x"}]}}"#, "context does not contain"),
        (#"{"context":{"r":1},"fields":{"s":[{"author":"","dot":["r",1],"time":1,"value":1.5}]}}"#, "value"),
        (#"{"context":{"r":1},"fields":{"s":[]}}"#, "no entries"),
        (#"{"context":{"R R":1},"fields":{}}"#, "replica id"),
        (#"{"context":{"r":1}}"#, "missing 'fields'"),
        (#"{"context":{"r":1},"fields":{"s":[{"author":"","dot":["r",0],"time":1,"value":"x"}]}}"#, "counter is an integer from 1"),
        (#"{"context":"#, "not well-formed"),
    ])
    func malformed(_ json: String, _ expected: String) {
        do {
            _ = try RecordState(json: json)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.code == .malformed)
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("the same dot twice in one field is corruption")
    func duplicateDot() {
        let json = #"{"context":{"r":1},"fields":{"s":[{"author":"","dot":["r",1],"time":1,"value":"x"},{"author":"","dot":["r",1],"time":1,"value":"y"}]}}"#
        #expect(throws: MufakatError.self) { try RecordState(json: json) }
    }

    @Test("counters up to UInt64.max survive the round trip")
    func largeCounters() throws {
        var state = RecordState()
        try state.write(["s": .string("x")], dot: Dot(replica: try ReplicaID("r"), counter: .max), now: .max - 1, author: "")
        #expect(try RecordState(json: state.canonicalJSON) == state)
        #expect(state.canonicalJSON.contains("18446744073709551615"))
    }

    @Test("the digest ignores input order, sees every change, and refuses unsorted streams")
    func digest() throws {
        let record = try sampleRecord()
        let other = ReplicatedRecord(collection: "asks", id: "ask-1", state: record.state)
        let d1 = try StoreDigest.of([record, other])
        #expect(try StoreDigest.of([other, record]) == d1)
        #expect(d1.count == 64)
        var changed = record
        try changed.state.write(["count": .integer(4)], dot: Dot(replica: try ReplicaID("c"), counter: 1), now: 1, author: "")
        #expect(try StoreDigest.of([changed, other]) != d1)
        #expect(try StoreDigest.of([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

        var streaming = StoreDigest()
        try streaming.add(collection: other.collection, id: other.id, stateJSON: other.state.canonicalJSON)
        try streaming.add(record)
        #expect(streaming.hexString == d1)
        #expect(throws: MufakatError.self) { try streaming.add(other) }
    }
}
