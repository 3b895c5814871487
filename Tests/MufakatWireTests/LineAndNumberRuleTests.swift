import MufakatCore
import NIOCore
import Testing
@testable import MufakatWire

/// PROTOCOL.md §0 and §3 at the frame decoder: how numbers are written, and what a line
/// may hold, with the code each breach gets.
@Suite("Number and line rules at the frame decoder")
struct LineAndNumberRuleTests {
    static let push = #"{"after":"","counter":1,"id":"p1","through":1,"type":"push"}"#
    static let record = #"{"collection":"asks","context":{"r1":1},"fields":{"title":[{"author":"A","dot":["r1",1],"time":1,"value":"x"}]},"id":"ask-1"}"#

    /// Decodes `body` as a session of `form` speaks it; the lines above are version 2's.
    static func decode(_ body: String, form: RecordForm = .expanded) -> Result<Message, WireError> {
        let frame = WireFrame(flags: [], body: ByteBuffer(string: body))
        return Result { () throws(WireError) in try Message(frame: frame, form: form) }
    }

    @Test("header numbers: integers 0 … 2^64 − 1 in plain decimal, whatever the member", arguments: [
        (#"{"limit":10,"since":0,"type":"pull"}"#, nil),
        (#"{"limit":10,"since":18446744073709551615,"type":"pull"}"#, nil),
        (#"{"limit":10,"since":18446744073709551616,"type":"pull"}"#, "bad-field"),
        (#"{"limit":10,"since":1.0,"type":"pull"}"#, "bad-field"),
        (#"{"limit":10,"since":1e0,"type":"pull"}"#, "bad-field"),
        (#"{"limit":10,"since":1E+2,"type":"pull"}"#, "bad-field"),
        (#"{"limit":10,"since":-0,"type":"pull"}"#, "bad-field"),
        (#"{"limit":10,"since":-1,"type":"pull"}"#, "bad-field"),
        (#"{"limit":10,"since":01,"type":"pull"}"#, "bad-json"),
        (#"{"limit":10,"since":+1,"type":"pull"}"#, "bad-json"),
        (#"{"limit":10,"since":1,"type":"pull","future":{"x":[1,2.5]}}"#, "bad-field"),
        (#"{"limit":10,"since":1,"type":"pull","future":{"x":[1,2]}}"#, nil),
        (#"{"nonce":18446744073709551615,"type":"ping"}"#, nil),
        (#"{"after":"","counter":9223372036854775807,"id":"p1","through":1,"type":"push"}"#, nil),
        (#"{"after":"","counter":9223372036854775808,"id":"p1","through":1,"type":"push"}"#, "bad-field"),
        (#"{"after":"","counter":1,"id":"p1","through":9223372036854775808,"type":"push"}"#, "bad-field"),
    ] as [(String, String?)])
    func headerNumbers(_ header: String, _ code: String?) {
        switch Self.decode(header + "\n") {
        case .success(let message): #expect(code == nil, "decoded \(message), expected \(code ?? "")")
        case .failure(let error): #expect(error.code.rawValue == code, "\(error)")
        }
    }

    @Test("lines: no CR, no byte-order mark, no empty line, unique member names", arguments: [
        ("\(push)\n\(record)\n", nil),
        ("\(push)\n\(record)", nil),
        ("\(push)\r\n\(record)\n", "bad-line"),
        ("\(push)\n\(record)\r\n", "bad-line"),
        ("\(push)\n\(record.replacingOccurrences(of: ",", with: ",\r"))\n", "bad-line"),
        ("\u{FEFF}\(push)\n", "bad-line"),
        ("\(push)\n\u{FEFF}\(record)\n", "bad-line"),
        ("\(push)\n\n", "bad-line"),
        ("\(push)\n\n\(record)\n", "bad-line"),
        ("\n\(push)\n", "bad-line"),
        ("", "bad-json"),
        (#"{"type":"bye","type":"bye"}"# + "\n", "bad-json"),
        (#"{"type":"bye","x":{"a":1,"a":1}}"# + "\n", "bad-json"),
        ("\(push)\n\(record.replacingOccurrences(of: #""id":"ask-1""#, with: #""id":"ask-1","id":"ask-2""#))\n", "bad-json"),
        ("\(push)\n\(record.replacingOccurrences(of: #""time":1"#, with: #""time":1,"time":2"#))\n", "bad-json"),
        ("\(push)\n\(record.replacingOccurrences(of: #"{"r1":1}"#, with: #"{"r1":1,"r1":1}"#))\n", "bad-json"),
        (#"{ "type" : "bye" }"# + "\n", nil),
        ("{\t\"type\":\"bye\"}\n", nil),
    ] as [(String, String?)])
    func lines(_ body: String, _ code: String?) {
        switch Self.decode(body) {
        case .success(let message): #expect(code == nil, "decoded \(message), expected \(code ?? "")")
        case .failure(let error): #expect(error.code.rawValue == code, "\(error)")
        }
    }

    @Test("record numbers out of range: the record is flagged for refusal alone, with its place and field", arguments: [
        (#""value":[{"author":"A","dot":["r1",1],"time":1,"value":9223372036854775807}]"#, nil),
        (#""value":[{"author":"A","dot":["r1",1],"time":1,"value":9223372036854775808}]"#, "value"),
        (#""value":[{"author":"A","dot":["r1",1],"time":1,"value":-0}]"#, "value"),
        (#""value":[{"author":"A","dot":["r1",1],"time":1,"value":5.0}]"#, "value"),
        (#""value":[{"author":"A","dot":["r1",1],"time":9223372036854775808,"value":5}]"#, "value"),
        (#""value":[{"author":"A","dot":["r1",1],"time":-1,"value":5}]"#, "value"),
        (#""value":[{"author":"A","dot":["r1",18446744073709551616],"time":1,"value":5}]"#, "value"),
        (#""value":[{"author":"A","dot":["r1",0],"time":1,"value":5}]"#, "value"),
    ] as [(String, String?)])
    func recordNumbers(_ field: String, _ refusedField: String?) throws {
        let line = #"{"collection":"reports","context":{"r1":1},"fields":{"#  + field + #"},"id":"r-x"}"#
        let message = try Self.decode("\(Self.push)\n\(line)\n").get()
        let record = try #require(message.records.first)
        #expect(record.collection == "reports" && record.id == "r-x")
        #expect(record.refusal?.field == refusedField, "\(String(describing: record.refusal))")
        // The same line in `changes` breaks the protocol: a client refuses nothing alone.
        let changes = Self.decode(#"{"more":false,"through":1,"type":"changes"}"# + "\n\(line)\n")
        if refusedField != nil {
            #expect(throws: WireError.self) { try changes.get() }
        }
    }

    @Test("compact form: numbers out of range in 'dots' or a value refuse the record alone", arguments: [
        (#"[["r1",1,1,"A"]],"fields":{"value":[[0,9223372036854775807]]}"#, false, nil),
        (#"[["r1",1,1,"A"]],"fields":{"value":[[0,9223372036854775808]]}"#, true, "value"),
        (#"[["r1",1,1,"A"]],"fields":{"value":[[0,-0]]}"#, true, "value"),
        (#"[["r1",1,9223372036854775808,"A"]],"fields":{"value":[[0,5]]}"#, true, nil),
        (#"[["r1",1,-1,"A"]],"fields":{"value":[[0,5]]}"#, true, nil),
        (#"[["r1",0,1,"A"]],"fields":{"value":[[0,5]]}"#, true, nil),
        (#"[["r1",18446744073709551616,1,"A"]],"fields":{"value":[[0,5]]}"#, true, nil),
    ] as [(String, Bool, String?)])
    func compactNumbers(_ tail: String, _ refused: Bool, _ refusedField: String?) throws {
        let line = #"{"collection":"reports","context":{"r1":1},"dots":"# + tail + #","id":"r-x"}"#
        let message = try Self.decode("\(Self.push)\n\(line)\n", form: .compact).get()
        let record = try #require(message.records.first)
        #expect((record.refusal != nil) == refused, "\(String(describing: record.refusal))")
        #expect(record.refusal?.field == refusedField)
        if !refused { #expect(record.state.fields["value"]?.first?.value == .integer(Int64.max)) }
    }

    @Test("each version's session takes its own form only, and a compact line keeps to its shape", arguments: [
        (record, RecordForm.expanded, nil),
        (record, .compact, "bad-record"),
        (compact, .compact, nil),
        (compact, .expanded, "bad-record"),
        (compact.replacingOccurrences(of: "[[0,", with: "[[1,"), .compact, "bad-record"),
        (compact.replacingOccurrences(of: "[[0,", with: "[[-1,"), .compact, "bad-record"),
        (compact.replacingOccurrences(of: #"[["r1",1,1,"A"]]"#, with: #"[["r1",1,1,"A"],["r1",1,1,"A"]]"#), .compact, "bad-record"),
        (compact.replacingOccurrences(of: #"[["r1",1,1,"A"]]"#, with: #"[["r1",1,1]]"#), .compact, "bad-record"),
        (compact.replacingOccurrences(of: #"[["r1",1,1,"A"]]"#, with: #"[["R1",1,1,"A"]]"#), .compact, "bad-record"),
        (compact.replacingOccurrences(of: #"[[0,"x"]]"#, with: #"[{"author":"A","dot":["r1",1],"time":1,"value":"x"}]"#), .compact, "bad-record"),
        (compact.replacingOccurrences(of: #""dots":[["r1",1,1,"A"]],"#, with: ""), .compact, "bad-record"),
        (compact.replacingOccurrences(of: #"[["r1",1,1,"A"]]"#, with: #"[["r2",1,1,"A"]]"#), .compact, "bad-record"),
        (compact.replacingOccurrences(of: #""dots":[["r1",1,1,"A"]]"#, with: #""dots":[["r1",1,1,"A"]],"dots":[]"#), .compact, "bad-json"),
    ] as [(String, RecordForm, String?)])
    func forms(_ line: String, _ form: RecordForm, _ code: String?) {
        switch Self.decode("\(Self.push)\n\(line)\n", form: form) {
        case .success(let message): #expect(code == nil, "decoded \(message), expected \(code ?? "")")
        case .failure(let error): #expect(error.code.rawValue == code, "\(error)")
        }
    }

    static let compact = #"{"collection":"asks","context":{"r1":1},"dots":[["r1",1,1,"A"]],"fields":{"title":[[0,"x"]]},"id":"ask-1"}"#
}
