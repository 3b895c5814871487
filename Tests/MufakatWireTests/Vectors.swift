import Foundation
import MufakatCore
import NIOCore
@testable import MufakatWire

/// One file of `protocol/vectors/`.
struct Vector: Codable {
    var name: String
    var description: String
    /// The whole frame, length prefix included, as lowercase hex.
    var frame: String
    /// The protocol version of the session the frame is sent in, which sets the form of its
    /// record lines (PROTOCOL.md §6.1); absent means 3, the current one.
    var version: Int?
    /// Limits the receiver applies, when not the defaults.
    var limits: WireLimits?
    /// For a valid frame: the header object and the record objects it decodes to.
    var header: JSONValue?
    var records: [JSONValue]?
    /// For an invalid frame: the error code the receiver must answer with.
    var error: String?
    /// For a valid `push`: record lines a hub refuses alone (`invalid`, the session going on),
    /// because a number in them is out of its range. They are not in ``records``.
    var refused: [RefusedLine]?

    /// The form of the vector's record lines.
    var form: RecordForm { RecordForm(protocolVersion: version ?? WireProtocol.version) }
}

/// A record line of a valid push that a hub refuses alone.
struct RefusedLine: Codable, Hashable {
    /// The line's number in the body (the header is line 1).
    var line: Int
    var collection: String
    var id: String
    /// The field named in the refusal; empty for the context.
    var fields: [String]
}

/// Any JSON value, compared structurally.
enum JSONValue: Codable, Hashable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    static func parse(_ text: some StringProtocol) -> JSONValue {
        try! JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }
}

enum VectorFiles {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("protocol/vectors")

    static func load() throws -> [Vector] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try files.map { try JSONDecoder().decode(Vector.self, from: Data(contentsOf: directory.appendingPathComponent($0))) }
            .sorted { $0.name < $1.name }
    }

    /// The vectors as this code produces them; `MUFAKAT_WRITE_VECTORS=1 swift test
    /// --filter VectorTests` writes them to `protocol/vectors/`.
    static func generate() throws -> [Vector] {
        var vectors: [Vector] = []
        for (index, item) in Fixtures.messages.enumerated() {
            let body = try item.message.encodeBody()
            let lines = String(buffer: body).split(separator: "\n")
            let header = JSONValue.parse(lines[0])
            let records = lines.dropFirst().map { JSONValue.parse($0) }
            let plain = Fixtures.frameBytes(WireFrame(flags: [], body: body))
            let compressed = Fixtures.frameBytes(WireFrame(flags: .compressed, body: try Zlib.deflate(body)))
            let number = String(format: "%02d", index + 1)
            vectors.append(Vector(
                name: "\(number)-\(item.name)", description: "\(item.name), uncompressed (flags 0x00)",
                frame: Fixtures.hex(plain), header: header, records: records))
            vectors.append(Vector(
                name: "\(number)-\(item.name)-zlib", description: "\(item.name), zlib-compressed (flags 0x01); receivers accept compression on any frame",
                frame: Fixtures.hex(compressed), header: header, records: records))
        }
        let batch = Message.changes(Changes(through: 2_000, more: true), records: (0..<40).map { Fixtures.report($0) })
        let batchBody = try batch.encodeBody()
        let batchFrame = try batch.frame()
        precondition(batchFrame.flags.contains(.compressed))
        let batchLines = String(buffer: batchBody).split(separator: "\n")
        vectors.append(Vector(
            name: "11-changes-batch-zlib",
            description: "changes with 40 reports, compressed by the sender's rule (body >= 512 bytes, saves >= 1/32)",
            frame: Fixtures.hex(Fixtures.frameBytes(batchFrame)),
            header: JSONValue.parse(batchLines[0]), records: batchLines.dropFirst().map { JSONValue.parse($0) }))

        func invalid(_ name: String, _ description: String, _ frame: ByteBuffer, _ code: WireError.Code, limits: WireLimits? = nil) {
            vectors.append(Vector(name: "e-\(name)", description: description, frame: Fixtures.hex(frame), limits: limits, error: code.rawValue))
        }
        let bye = #"{"type":"bye"}"#
        var oversized = ByteBuffer()
        oversized.writeInteger(UInt32(16 << 20) + 2, endianness: .big)
        oversized.writeInteger(UInt8(0))
        invalid("frame-too-large", "length prefix announces 16 MiB + 2 bytes; refused before the body arrives", oversized, .frameTooLarge)
        var beforeHello = ByteBuffer()
        beforeHello.writeInteger(UInt32(64 << 10) + 2, endianness: .big)
        beforeHello.writeInteger(UInt8(0))
        invalid(
            "frame-too-large-before-hello",
            "length prefix announces 64 KiB + 2 bytes to a hub that has not accepted a hello yet (its limits before hello: 64 KiB frame, 64 KiB inflated)",
            beforeHello, .frameTooLarge, limits: .beforeHello)
        var zero = ByteBuffer()
        zero.writeInteger(UInt32(0), endianness: .big)
        invalid("frame-length-zero", "length 0: a frame holds at least its flags byte", zero, .frameTooLarge)
        invalid("bad-flags", "flags 0x02: reserved bit set", Fixtures.rawFrame(bye, flags: 2), .badFlags)
        invalid(
            "inflate-limit", "a 4,096-byte body of spaces compressed; the receiver's inflated-size limit is 1,024",
            Fixtures.rawFrame(#"{"type":"bye"}"# + String(repeating: " ", count: 4_082), compress: true), .inflateLimit,
            limits: WireLimits(inflatedBytes: 1_024))
        var corrupt = Fixtures.rawFrame(bye, compress: true)
        corrupt.setInteger(UInt8(0xff), at: corrupt.writerIndex - 6)
        invalid("bad-compression-corrupt", "zlib stream with a damaged byte (checksum mismatch)", corrupt, .badCompression)
        var truncatedBody = try Zlib.deflate(ByteBuffer(string: bye))
        truncatedBody.moveWriterIndex(to: truncatedBody.writerIndex - 4)
        invalid(
            "bad-compression-truncated", "zlib stream cut before its Adler-32 trailer",
            Fixtures.frameBytes(WireFrame(flags: .compressed, body: truncatedBody)), .badCompression)
        var trailing = try Zlib.deflate(ByteBuffer(string: bye))
        trailing.writeString("garbage")
        invalid(
            "bad-compression-trailing", "7 bytes after the end of the zlib stream",
            Fixtures.frameBytes(WireFrame(flags: .compressed, body: trailing)), .badCompression)
        var badUTF8 = ByteBuffer(string: #"{"type":"bye","x":""#)
        badUTF8.writeBytes([0xc3, 0x28])
        badUTF8.writeString("\"}")
        invalid("bad-utf8", "header line with the invalid UTF-8 sequence C3 28", Fixtures.frameBytes(WireFrame(flags: [], body: badUTF8)), .badUTF8)
        invalid(
            "line-too-long", "a 100-byte header line; the receiver's line limit is 64",
            Fixtures.rawFrame(#"{"type":"ping","nonce":1,"pad":""# + String(repeating: "x", count: 67) + "\"}"), .lineTooLong,
            limits: WireLimits(lineBytes: 64))
        let threeRecords = ([#"{"after":"","counter":3,"id":"p1","through":3,"type":"push"}"#] + (1...3).map { _ in Fixtures.position().compactJSONLine }).joined(separator: "\n") + "\n"
        invalid(
            "too-many-records", "push with 3 records; the receiver allows 2 per frame",
            Fixtures.rawFrame(threeRecords), .tooManyRecords, limits: WireLimits(records: 2))
        invalid("bad-json", "header line that is not JSON", Fixtures.rawFrame("hello there\n"), .badJSON)
        invalid("bad-json-array", "header line that is JSON but not an object", Fixtures.rawFrame("[1,2]\n"), .badJSON)
        invalid("bad-json-empty", "empty body", Fixtures.rawFrame(""), .badJSON)
        invalid("missing-type", "header object without 'type'", Fixtures.rawFrame(#"{"nonce":1}"# + "\n"), .missingType)
        invalid("unknown-type", "type 'subscribe' is not part of version 1", Fixtures.rawFrame(#"{"type":"subscribe"}"# + "\n"), .unknownType)
        invalid("bad-field", "pull whose 'since' is a string", Fixtures.rawFrame(#"{"limit":10,"since":"yesterday","type":"pull"}"# + "\n"), .badField)
        invalid("bad-field-history-limit", "history whose 'limit' is 0 (1 to 1000)", Fixtures.rawFrame(#"{"collection":"asks","id":"ask-budget","limit":0,"type":"history"}"# + "\n"), .badField)
        invalid("bad-record-write-id", "write whose line has a write id that is not 32 lowercase hex digits, '-' and a number", Fixtures.rawFrame(#"{"id":"c41e9a07d2b85f36","type":"write"}"# + "\n" + #"{"after":[],"author":"Andi","collection":"meetings","context":{},"entered":1764400000000,"id":"m-1","values":{"decisions":"x"},"write":"6F1C-1"}"# + "\n"), .badRecord)
        invalid("bad-record-write-missing", "write whose line has no 'context'", Fixtures.rawFrame(#"{"id":"c41e9a07d2b85f36","type":"write"}"# + "\n" + #"{"after":[],"author":"Andi","collection":"meetings","entered":1764400000000,"id":"m-1","values":{"decisions":"x"},"write":"6f1c0b7e2d9a4c3b8e5f1a0d7c6b2e9a-1"}"# + "\n"), .badRecord)
        invalid("bad-field-write-batch-id", "write whose batch 'id' is empty (1 to 64 characters)", Fixtures.rawFrame(#"{"id":"","type":"write"}"# + "\n"), .badField)
        invalid("bad-record-voucher", "relay whose record's 'voucher' is not 16 base64url characters", Fixtures.rawFrame(#"{"id":"e6307b29f4da7158","type":"relay"}"# + "\n" + #"{"collection":"asks","context":{"5d2e8f0a9b1c3d47":1},"dots":[["5d2e8f0a9b1c3d47",1,1764400000000,"Sari (unicef)"]],"fields":{"title":[[0,"Budget"]]},"id":"ask-budget","voucher":"not a voucher"}"# + "\n"), .badRecord)
        invalid("bad-record-history-entry", "record-history whose line is not an audit entry", Fixtures.rawFrame(#"{"found":true,"omitted":0,"type":"record-history"}"# + "\n" + #"{"entry":"first"}"# + "\n"), .badRecord)
        invalid("bad-field-missing", "hello without 'token'", Fixtures.rawFrame(#"{"client":"x","replica":"r1","type":"hello","version":1}"# + "\n"), .badField)
        invalid(
            "bad-record", "push whose record has an entry whose dot is outside the record's context",
            Fixtures.rawFrame(#"{"after":"","counter":1,"id":"p1","through":1,"type":"push"}"# + "\n" + #"{"collection":"asks","context":{},"dots":[["r1",1,1,"A"]],"fields":{"title":[[0,"x"]]},"id":"ask-1"}"# + "\n"),
            .badRecord)
        invalid(
            "bad-record-expanded", "push in a version 3 session whose record is in the expanded form of version 2",
            Fixtures.rawFrame(#"{"after":"","counter":1,"id":"p1","through":1,"type":"push"}"# + "\n" + #"{"collection":"asks","context":{"r1":1},"fields":{"title":[{"author":"A","dot":["r1",1],"time":1,"value":"x"}]},"id":"ask-1"}"# + "\n"),
            .badRecord)
        invalid(
            "bad-record-index", "push whose record has an entry naming write 1 of a 'dots' list of one",
            Fixtures.rawFrame(#"{"after":"","counter":1,"id":"p1","through":1,"type":"push"}"# + "\n" + #"{"collection":"asks","context":{"r1":1},"dots":[["r1",1,1,"A"]],"fields":{"title":[[1,"x"]]},"id":"ask-1"}"# + "\n"),
            .badRecord)
        invalid(
            "bad-record-dots-twice", "push whose record lists one write twice in 'dots'",
            Fixtures.rawFrame(#"{"after":"","counter":1,"id":"p1","through":1,"type":"push"}"# + "\n" + #"{"collection":"asks","context":{"r1":1},"dots":[["r1",1,1,"A"],["r1",1,1,"A"]],"fields":{"title":[[0,"x"]]},"id":"ask-1"}"# + "\n"),
            .badRecord)
        invalid(
            "bad-record-not-object", "push whose record line is not a JSON object",
            Fixtures.rawFrame(#"{"after":"","counter":1,"id":"p1","through":1,"type":"push"}"# + "\n" + "[]\n"), .badJSON)
        invalid(
            "unexpected-records", "ping followed by a record line; only push and changes carry records",
            Fixtures.rawFrame(#"{"nonce":1,"type":"ping"}"# + "\n" + Fixtures.position().compactJSONLine + "\n"), .unexpectedMessage)
        // Line rules (§3): no CR, no byte-order mark, no empty line.
        invalid("bad-line-crlf", "header line ended by CR LF", Fixtures.rawFrame(bye + "\r\n"), .badLine)
        invalid("bad-line-bom", "header line starting with a UTF-8 byte-order mark", Fixtures.rawFrame("\u{FEFF}" + bye + "\n"), .badLine)
        invalid("bad-line-blank", "a blank line after the header", Fixtures.rawFrame(bye + "\n\n"), .badLine)
        let pushHeader = #"{"after":"","counter":1,"id":"p1","through":1,"type":"push"}"#
        invalid(
            "bad-line-blank-record", "push with an empty line between the header and its record",
            Fixtures.rawFrame(pushHeader + "\n\n" + Fixtures.position().compactJSONLine + "\n"), .badLine)
        invalid(
            "bad-line-cr-record", "push whose record line ends with CR",
            Fixtures.rawFrame(pushHeader + "\n" + Fixtures.position().compactJSONLine + "\r\n"), .badLine)
        // JSON rules: unique member names; numbers (§0).
        invalid(
            "bad-json-duplicate", "pull header with 'since' twice",
            Fixtures.rawFrame(#"{"limit":10,"since":1,"since":2,"type":"pull"}"# + "\n"), .badJSON)
        invalid(
            "bad-json-duplicate-record", "push whose record has 'context' twice",
            Fixtures.rawFrame(pushHeader + "\n" + #"{"collection":"asks","context":{"r1":1},"context":{"r1":1},"dots":[["r1",1,1,"A"]],"fields":{"title":[[0,"x"]]},"id":"ask-1"}"# + "\n"),
            .badJSON)
        invalid("bad-json-leading-zero", "pull whose 'since' is 01 (not JSON)", Fixtures.rawFrame(#"{"limit":10,"since":01,"type":"pull"}"# + "\n"), .badJSON)
        invalid("bad-field-fraction", "pull whose 'since' is 1.0", Fixtures.rawFrame(#"{"limit":10,"since":1.0,"type":"pull"}"# + "\n"), .badField)
        invalid("bad-field-exponent", "pull whose 'since' is 1e0", Fixtures.rawFrame(#"{"limit":10,"since":1e0,"type":"pull"}"# + "\n"), .badField)
        invalid("bad-field-minus-zero", "pull whose 'since' is -0", Fixtures.rawFrame(#"{"limit":10,"since":-0,"type":"pull"}"# + "\n"), .badField)
        invalid("bad-field-negative", "ping whose 'nonce' is -1", Fixtures.rawFrame(#"{"nonce":-1,"type":"ping"}"# + "\n"), .badField)
        invalid(
            "bad-field-range", "ping whose 'nonce' is 2^64",
            Fixtures.rawFrame(#"{"nonce":18446744073709551616,"type":"ping"}"# + "\n"), .badField)
        invalid(
            "bad-field-counter-range", "push whose 'counter' is 2^63 (push counters and through are 0 … 2^63 − 1)",
            Fixtures.rawFrame(#"{"after":"","counter":9223372036854775808,"id":"p1","through":1,"type":"push"}"# + "\n"), .badField)
        invalid(
            "bad-field-unknown-member", "ping with an unknown member holding 1.5: every number in a header is an integer",
            Fixtures.rawFrame(#"{"nonce":1,"note":1.5,"type":"ping"}"# + "\n"), .badField)
        invalid(
            "inflate-limit-uncompressed", "an uncompressed 100-byte body; the receiver's body limit is 64 (it holds for every body)",
            Fixtures.rawFrame(#"{"nonce":1,"type":"ping","pad":""# + String(repeating: "x", count: 66) + "\"}\n"), .inflateLimit,
            limits: WireLimits(inflatedBytes: 64))
        invalid(
            "bad-record-changes-range", "changes whose record holds a value of 2^63: only a hub refuses a record alone",
            Fixtures.rawFrame(#"{"more":false,"through":5,"type":"changes"}"# + "\n" + #"{"collection":"reports","context":{"r1":1},"dots":[["r1",1,1,"A"]],"fields":{"value":[[0,9223372036854775808]]},"id":"r-0123456789abcdef0123"}"# + "\n"),
            .badRecord)
        // Numbers out of range inside records: the record is refused alone, the push goes on.
        let good = Fixtures.report(2)
        let refusedLines = [
            (#"{"collection":"reports","context":{"r1":1},"dots":[["r1",1,1,"A"]],"fields":{"value":[[0,9223372036854775808]]},"id":"r-a"}"#, "r-a", ["value"]),
            (#"{"collection":"reports","context":{"r1":1},"dots":[["r1",1,1,"A"]],"fields":{"value":[[0,1e3]]},"id":"r-b"}"#, "r-b", ["value"]),
            (#"{"collection":"reports","context":{"r1":1},"dots":[["r1",1,1.0,"A"]],"fields":{"value":[[0,5]]},"id":"r-c"}"#, "r-c", []),
            (#"{"collection":"reports","context":{"r1":-0},"dots":[["r1",1,1,"A"]],"fields":{"value":[[0,5]]},"id":"r-d"}"#, "r-d", []),
            (#"{"collection":"reports","context":{"r1":1},"dots":[["r1",0,1,"A"]],"fields":{"notes":[[0,"x"]]},"id":"r-e"}"#, "r-e", []),
            (#"{"collection":"reports","context":{"r1":1},"dots":[["r1",1,-5,"A"]],"fields":{"value":[[0,5]]},"id":"r-f"}"#, "r-f", []),
        ]
        let refusedPush = ([#"{"after":"","counter":1,"id":"p1","through":1,"type":"push"}"#] + refusedLines.map(\.0) + [good.compactJSONLine]).joined(separator: "\n") + "\n"
        vectors.append(Vector(
            name: "12-push-numbers-refused",
            description: "push whose first six records hold numbers out of range (a value of 2^63, 1e3, a time of 1.0, a context counter of -0, a dot counter of 0, a time below 0): a hub refuses each alone ('invalid', naming the field when the number is a value) and stores the last",
            frame: Fixtures.hex(Fixtures.rawFrame(refusedPush)),
            header: JSONValue.parse(#"{"after":"","counter":1,"id":"p1","through":1,"type":"push"}"#),
            records: [JSONValue.parse(good.compactJSONLine)],
            refused: refusedLines.enumerated().map { index, item in
                RefusedLine(line: index + 2, collection: "reports", id: item.1, fields: item.2)
            }))
        // Version 2, which a hub serves beside version 3 during an upgrade: the same records
        // in the expanded form.
        let oldPush = Message.push(
            Push(through: 2, id: "0f3a9c21d4e5b687", after: "", counter: 2), records: [Fixtures.report(1), Fixtures.position()])
        let oldBody = try oldPush.encodeBody(form: .expanded)
        let oldLines = String(buffer: oldBody).split(separator: "\n")
        vectors.append(Vector(
            name: "13-push-version-2",
            description: "push in a version 2 session: its records in the expanded form, each entry carrying its write's author, dot and time",
            frame: Fixtures.hex(Fixtures.frameBytes(WireFrame(flags: [], body: oldBody))), version: 2,
            header: JSONValue.parse(oldLines[0]), records: oldLines.dropFirst().map { JSONValue.parse($0) }))
        let oldChanges = Message.changes(Changes(through: 1_205, more: false), records: [Fixtures.position()])
        let oldChangesBody = try oldChanges.encodeBody(form: .expanded)
        let oldChangesLines = String(buffer: oldChangesBody).split(separator: "\n")
        vectors.append(Vector(
            name: "14-changes-version-2",
            description: "changes in a version 2 session: the hub writes each stored state in the expanded form",
            frame: Fixtures.hex(Fixtures.frameBytes(WireFrame(flags: [], body: oldChangesBody))), version: 2,
            header: JSONValue.parse(oldChangesLines[0]), records: oldChangesLines.dropFirst().map { JSONValue.parse($0) }))
        // Version 4: a record's history (PROTOCOL.md §4 history, record-history; §6.11).
        for (number, name, description, message) in [
            ("15", "history", "history: the audit entries of one record, the latest 200 at most", Message.history(HistoryRequest(collection: "positions", id: "kemnaker:ask-budget", limit: 200))),
            ("16", "record-history", "record-history: the hub holds the record; one audit entry per line follows, oldest first", Message.recordHistory(RecordHistory(found: true, omitted: 0), entries: [Fixtures.auditEntry])),
            ("25", "record-history-non-ascii", "record-history whose entry holds non-ASCII, a tab and a line feed: the hash covers them as raw UTF-8 and the escapes of §6.5 (§6.11)", Message.recordHistory(RecordHistory(found: true, omitted: 0), entries: [Fixtures.auditEntryNonASCII])),
        ] {
            let body = try message.encodeBody()
            let lines = String(buffer: body).split(separator: "\n")
            vectors.append(Vector(
                name: "\(number)-\(name)", description: description,
                frame: Fixtures.hex(Fixtures.frameBytes(WireFrame(flags: [], body: body))), version: 4,
                header: JSONValue.parse(lines[0]), records: lines.dropFirst().map { JSONValue.parse($0) }))
        }
        // Version 5: the hub names every write (PROTOCOL.md §13).
        let named = Fixtures.writes.enumerated().map { index, pushed in
            NamedLine(
                write: pushed.write.id.rawValue, dot: WireDot(Dot(replica: Fixtures.hubRun, counter: UInt64(14 + index))),
                time: 1_764_400_100_000, author: "Andi (iom)",
                over: index == 0 ? [] : [WireDot(Dot(replica: Fixtures.hubRun, counter: 14))], earlier: false, exact: true,
                voucher: index == 0 ? "Yk2pL0sQ7vT1wX9z" : "Hd4rN6uB2eJ8mC0f")
        }
        for (number, name, description, message) in [
            ("17", "welcome-version-5", "welcome in a version 5 session: no ledger of replica ids; the hub's runs (incarnations) with the sequence each began after, and the counter held for every actor", Message.welcome(Welcome(
                version: 5, hub: "b7e9d0c1a2f34455", seq: 1_204, counter: 0, software: "mufakat-hub 0.8.0", limits: .default,
                org: "iom", role: "member",
                incarnations: [IncarnationInfo(actor: "a7c3e1f05b2d9846", from: 0), IncarnationInfo(actor: Fixtures.hubRun.rawValue, from: 1_180)],
                held: ["a7c3e1f05b2d9846": 2_311, Fixtures.hubRun.rawValue: 13, Fixtures.iom.rawValue: 41]))),
            ("18", "write", "write: two pending writes of one laptop transaction, the second following the first (after), both made on the state named up to counter 12", Message.write(WriteBatch(id: "c41e9a07d2b85f36"), writes: Fixtures.writes)),
            ("19", "named", "named: the hub's dot, time and name for each write in order; exact, so the laptop applies them itself and keeps the voucher", Message.named(Named(id: "c41e9a07d2b85f36", seq: 1_207), lines: named)),
            ("20", "named-refused", "named: a write refused (nothing of it stored); the batch goes on", Message.named(Named(id: "d52fab18e3c96047", seq: 1_207), lines: [NamedLine(
                write: "0a1b2c3d4e5f60718293a4b5c6d7e8f9-1",
                refused: .init(collection: "reports", id: "r-0123456789abcdef0123", code: "forbidden", fields: [], reason: "a member writes only its own organisation's figures"))])),
            ("21", "pull-skip", "pull in a version 5 session, leaving out the records of a write batch answered exact", Message.pull(Pull(since: 1_204, limit: 1_000, skip: ["c41e9a07d2b85f36"]))),
            ("22", "changes-vouchers", "changes in a version 5 session: each record with the hub's voucher for its state", Message.changes(Changes(through: 1_207, more: false), records: [Fixtures.vouched()])),
            ("23", "relay", "relay: a state the hub served, with its voucher, sent back to a hub restored from a backup", Message.relay(Relay(id: "e6307b29f4da7158"), records: [Fixtures.vouched()])),
            ("24", "relayed", "relayed: merged, already held, and refused (a voucher that is not the hub's)", Message.relayed(Relayed(id: "e6307b29f4da7158", merged: 1, unchanged: 0, rejected: [.init(collection: "positions", id: "kemnaker:ask-staff", code: "unvouched", fields: [], reason: "the record's voucher is not this hub's for that state")], seq: 1_208))),
        ] {
            let body = try message.encodeBody()
            let lines = String(buffer: body).split(separator: "\n")
            vectors.append(Vector(
                name: "\(number)-\(name)", description: description,
                frame: Fixtures.hex(Fixtures.frameBytes(WireFrame(flags: [], body: body))), version: 5,
                header: JSONValue.parse(lines[0]), records: lines.dropFirst().map { JSONValue.parse($0) }))
        }
        return vectors
    }

    static func write(_ vectors: [Vector]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for vector in vectors {
            var data = try encoder.encode(vector)
            data.append(UInt8(ascii: "\n"))
            try data.write(to: directory.appendingPathComponent("\(vector.name).json"))
        }
    }
}

extension ReplicatedRecord {
    /// This record's line in the compact form of version 3.
    var compactJSONLine: String { line(.compact) }
}
