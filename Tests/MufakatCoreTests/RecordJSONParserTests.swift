import Testing
@testable import MufakatCore

@Suite("Record JSON parser")
struct RecordJSONParserTests {
    static let entry = #"{"author":"A","dot":["r",1],"time":5,"value":"x"}"#

    @Test("any member order, whitespace and unknown members are accepted")
    func lenientLayout() throws {
        let text = """
             { "fields" : { "s" : [ {"value": "x", "extra": {"deep": [1, 2.5e3, true, null, "\\u00e9"]}, "time": 5,
               "dot": [ "r" , 1 ], "author": "A"} ] }, "id": "ask-1", "note": [], "context": {"r": 1},
               "collection": "asks" }
            """
        let record = try ReplicatedRecord(json: text)
        #expect(record.canonicalJSON == #"{"collection":"asks","context":{"r":1},"fields":{"s":[\#(Self.entry)]},"id":"ask-1"}"#)
    }

    @Test("escapes, including surrogate pairs, decode to the same text as written")
    func escapes() throws {
        let json = #"{"context":{"r":1},"fields":{"s":[{"author":"\u00c9\ud83d\ude00\/\n\t\"\\","dot":["r",1],"time":5,"value":"a\u0000b"}]}}"#
        let state = try RecordState(json: json)
        let entry = try #require(state.fields["s"]?.first)
        #expect(entry.author == "É😀/\n\t\"\\")
        #expect(entry.value == .string("a\u{0}b"))
        #expect(try RecordState(json: state.canonicalJSON) == state)
    }

    @Test("broken JSON is a syntax error; the wrong shape is not", arguments: [
        (#"{"context":{"r":1},"fields":{}} x"#, true, "after the end"),
        (#"{"context":{"r":01},"fields":{}}"#, true, "leading zero"),
        (#"{"context":{"r":1},"fields":{"s":[{"author":"\ud800","dot":["r",1],"time":5,"value":"x"}]}}"#, true, "surrogate"),
        (#"{"context":{"r":1},"fields":{"s":[{"author":"a\u0001","dot":["r",1],"time":5,"value":"x"}]}}"#, false, ""),
        ("{\"context\":{\"r\":1},\"fields\":{\"s\":[{\"author\":\"a\u{1}\",\"dot\":[\"r\",1],\"time\":5,\"value\":\"x\"}]}}", true, "control character"),
        (#"{"context":{"r":1},"fields":{"#, true, "at byte 29"),
        ("[1]", true, "not a JSON object"),
        (#"{"context":{"r":1},"context":{"r":1},"fields":{}}"#, true, "appears twice"),
        (#"{"context":{"r":1,"r":2},"fields":{}}"#, true, "appears twice"),
        (#"{"context":{"r":1},"fields":{"s":[{"author":"A","author":"B","dot":["r",1],"time":5,"value":"x"}]}}"#, true, "appears twice"),
        (#"{"context":{"r":1},"fields":{},"x":1,"x":2}"#, true, "appears twice"),
        (#"{"context":{"r":1},"fields":{},"x":{"y":1,"y":1}}"#, true, "appears twice"),
        (#"{"context":{"r":1},"fields":{},"x":[01]}"#, true, "leading zero"),
        (#"{"context":{"r":1},"fields":{},"x":[-]}"#, true, "expected a number"),
        (#"{"context":{"r":18446744073709551616},"fields":{}}"#, false, "2^64 − 1"),
        (#"{"context":{"r":-1},"fields":{}}"#, false, "from 0 to 2^64 − 1"),
        (#"{"context":{"r":1},"fields":{"s":[{"author":"A","dot":["r",1],"time":5,"value":2e3}]}}"#, false, "a number value is an integer"),
        (#"{"context":{"r":1},"fields":{"s":[{"author":"A","dot":["r",1,2],"time":5,"value":"x"}]}}"#, false, "two members"),
        (#"{"context":{"r":1},"fields":{"s":[{"author":"A","dot":["r"],"time":5,"value":"x"}]}}"#, false, "two members"),
        (#"{"context":{"r":1},"fields":{"s":[{"author":"A","dot":{"r":1},"time":5,"value":"x"}]}}"#, false, "expected a list"),
        (#"{"context":{"r":1},"fields":{"s":[{"author":"A","dot":["r",1,],"time":5,"value":"x"}]}}"#, true, "not well-formed"),
        (#"{"context":{"r":1},"fields":{"s":[{"author":"A","dot":["r",1],"value":"x"}]}}"#, false, "missing 'time'"),
        (#"{"context":{"r":1},"fields":"s"}"#, false, "expected an object"),
    ])
    func refusals(_ json: String, _ syntax: Bool, _ expected: String) {
        var text = json
        let result = text.withUTF8 { bytes in
            Result { () throws(RecordDecodingError) in try RecordJSONParser.parseState(bytes) }
        }
        switch result {
        case .success(let state):
            #expect(expected.isEmpty, "accepted: \(state)")
        case .failure(let error):
            #expect(error.isSyntaxError == syntax, "\(error.message)")
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("nesting deeper than 64 in an unknown member is refused, not a stack overflow")
    func deepNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: MufakatError.self) { try RecordState(json: #"{"context":{},"fields":{},"x":\#(deep)}"#) }
    }
}
