import Foundation
import MufakatCore
import MufakatSync
import NIOCore
import NIOFoundationCompat

extension Message {
    /// The body text: the header line, then one line per record in `form` (a session's,
    /// from its protocol version), each ended by `\n`. Header keys are sorted so the same
    /// message always gives the same bytes.
    public func encodeBody(form: RecordForm = WireProtocol.recordForm) throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var body = ByteBuffer()
        let header: Data
        switch self {
        case .hello(let value): header = try encoder.encode(Tagged(type: type, header: value))
        case .welcome(let value): header = try encoder.encode(Tagged(type: type, header: value))
        case .error(let value): header = try encoder.encode(Tagged(type: type, header: value))
        case .push(let value, _): header = try encoder.encode(Tagged(type: type, header: value))
        case .pushed(let value): header = try encoder.encode(Tagged(type: type, header: value))
        case .pull(let value): header = try encoder.encode(Tagged(type: type, header: value))
        case .changes(let value, _), .changesLines(let value, _): header = try encoder.encode(Tagged(type: type, header: value))
        case .ping(let value), .pong(let value): header = try encoder.encode(Tagged(type: type, header: value))
        case .bye: header = try encoder.encode(Tagged(type: type, header: Empty()))
        case .history(let value): header = try encoder.encode(Tagged(type: type, header: value))
        case .recordHistory(let value, _): header = try encoder.encode(Tagged(type: type, header: value))
        case .write(let value, _): header = try encoder.encode(Tagged(type: type, header: value))
        case .named(let value, _): header = try encoder.encode(Tagged(type: type, header: value))
        case .relay(let value, _): header = try encoder.encode(Tagged(type: type, header: value))
        case .relayed(let value): header = try encoder.encode(Tagged(type: type, header: value))
        }
        body.writeBytes(header)
        body.writeInteger(UInt8(ascii: "\n"))
        if case .changesLines(_, let lines) = self {
            for line in lines {
                body.writeString(line)
                body.writeInteger(UInt8(ascii: "\n"))
            }
        }
        for record in records {
            body.writeString(record.line(form))
            body.writeInteger(UInt8(ascii: "\n"))
        }
        if case .recordHistory(_, let entries) = self {
            for entry in entries {
                body.writeBytes(try encoder.encode(entry))
                body.writeInteger(UInt8(ascii: "\n"))
            }
        }
        if case .write(_, let writes) = self {
            for write in writes {
                body.writeString(write.line)
                body.writeInteger(UInt8(ascii: "\n"))
            }
        }
        if case .named(_, let lines) = self {
            for line in lines {
                body.writeBytes(try encoder.encode(line))
                body.writeInteger(UInt8(ascii: "\n"))
            }
        }
        return body
    }

    /// Parses a body already inflated and split into lines; record lines must be in `form`.
    static func decode(_ body: FrameBody, form: RecordForm) throws(WireError) -> Message {
        let lines = body.lines
        guard let headerLine = lines.first, body.bytes.readableBytes > 0 else {
            throw WireError(.badJSON, "the body is empty; its first line must be a JSON header object")
        }
        guard lines.count - 1 <= body.limits.records else {
            throw WireError(.tooManyRecords, "\(lines.count - 1) records in one frame; the limit is \(body.limits.records)")
        }
        if let blank = lines.firstIndex(where: { $0.readableBytes == 0 }) {
            throw WireError(.badLine, "line \(blank + 1) is empty; a body is a header line and record lines, with no empty line between or after them")
        }
        let decoder = JSONDecoder()
        try checkUTF8(headerLine, line: 1)
        try checkHeader(headerLine)
        let type = try probeType(headerLine, decoder: decoder)
        guard type.carriesLines || lines.count == 1 else {
            throw WireError(.unexpectedMessage, "a \(type.rawValue) message carries no record lines, but \(lines.count - 1) followed")
        }
        func header<H: Decodable>(_: H.Type) throws(WireError) -> H {
            do {
                return try decoder.decode(H.self, from: headerLine)
            } catch DecodingError.dataCorrupted {
                // The line is well-formed JSON with integer numbers (checked above): what
                // does not decode is a number too large for its member.
                throw WireError(.badField, "\(type.rawValue) header: a number is out of its member's range (PROTOCOL.md §4)")
            } catch let error as DecodingError {
                throw WireError(.badField, "\(type.rawValue) header: \(JSONDecoding.describe(error))")
            } catch {
                throw WireError(.badField, "\(type.rawValue) header is not valid")
            }
        }
        switch type {
        case .hello: return .hello(try header(Hello.self))
        case .welcome: return .welcome(try header(Welcome.self))
        case .error: return .error(try header(ErrorMessage.self))
        case .push:
            let push = try header(Push.self)
            guard push.through <= Counters.maxCounter, push.counter <= Counters.maxCounter else {
                throw WireError(.badField, "push header: 'through' and 'counter' are integers from 0 to 2^63 − 1")
            }
            return .push(push, records: try records(lines, form: form))
        case .pushed: return .pushed(try header(Pushed.self))
        case .pull:
            let pull = try header(Pull.self)
            if let skip = pull.skip {
                guard skip.count <= Pull.maxSkip else {
                    throw WireError(.badField, "pull header: 'skip' lists at most \(Pull.maxSkip) batch ids")
                }
                for id in skip { try checkBatchID(id, type) }
            }
            return .pull(pull)
        case .changes:
            let changes = try header(Changes.self)
            let records = try records(lines, form: form)
            // Only a hub refuses a record alone; a client cannot, so a number out of range
            // in `changes` breaks the protocol.
            if let line = records.firstIndex(where: { $0.refusal != nil }) {
                throw WireError(.badRecord, "line \(line + 2): record is not valid: \(records[line].refusal!)")
            }
            return .changes(changes, records: records)
        case .ping: return .ping(try header(Ping.self))
        case .pong: return .pong(try header(Ping.self))
        case .bye: return .bye
        case .history:
            let request = try header(HistoryRequest.self)
            guard (1...1_000).contains(request.limit) else {
                throw WireError(.badField, "history header: 'limit' is an integer from 1 to 1000")
            }
            return .history(request)
        case .recordHistory:
            let answer = try header(RecordHistory.self)
            var entries: [AuditEntry] = []
            for (index, line) in lines.enumerated().dropFirst() {
                try checkUTF8(line, line: index + 1)
                do {
                    entries.append(try decoder.decode(AuditEntry.self, from: line))
                } catch {
                    throw WireError(.badRecord, "line \(index + 1) is not an audit entry (PROTOCOL.md §5.7)")
                }
            }
            return .recordHistory(answer, entries: entries)
        case .write:
            let batch = try header(WriteBatch.self)
            try checkBatchID(batch.id, type)
            var writes: [PushedWrite] = []
            writes.reserveCapacity(lines.count - 1)
            for (index, line) in lines.enumerated().dropFirst() {
                try checkUTF8(line, line: index + 1)
                let result = line.withUnsafeReadableBytes { bytes in
                    Result { () throws(RecordDecodingError) in try PushedWrite.decode(utf8: bytes) }
                }
                switch result {
                case .success(let write): writes.append(write)
                case .failure(let error) where error.kind == .syntax:
                    throw WireError(.badJSON, "line \(index + 1) is not a JSON object: \(error.message)")
                case .failure(let error) where error.kind == .line:
                    throw WireError(.badLine, "line \(index + 1): \(error.message)")
                case .failure(let error):
                    throw WireError(.badRecord, "line \(index + 1): write is not valid: \(error.message) (PROTOCOL.md §13.3)")
                }
            }
            return .write(batch, writes: writes)
        case .named:
            let named = try header(Named.self)
            var answers: [NamedLine] = []
            for (index, line) in lines.enumerated().dropFirst() {
                try checkUTF8(line, line: index + 1)
                do {
                    answers.append(try decoder.decode(NamedLine.self, from: line))
                } catch {
                    throw WireError(.badRecord, "line \(index + 1) is not a named line (PROTOCOL.md §13.3)")
                }
            }
            return .named(named, lines: answers)
        case .relay:
            let relay = try header(Relay.self)
            try checkBatchID(relay.id, type)
            return .relay(relay, records: try records(lines, form: form))
        case .relayed:
            return .relayed(try header(Relayed.self))
        }
    }

    /// A batch id: 1 to ``WriteBatch/maxIDLength`` characters.
    private static func checkBatchID(_ id: String, _ type: MessageType) throws(WireError) {
        guard (1...WriteBatch.maxIDLength).contains(id.utf8.count) else {
            throw WireError(.badField, "\(type.rawValue) header: 'id' is 1 to \(WriteBatch.maxIDLength) characters")
        }
    }

    private static func checkUTF8(_ line: ByteBuffer, line number: Int) throws(WireError) {
        guard String(validating: line.readableBytesView, as: UTF8.self) != nil else {
            throw WireError(.badUTF8, "line \(number) is not valid UTF-8")
        }
    }

    private static func checkHeader(_ line: ByteBuffer) throws(WireError) {
        let result = line.withUnsafeReadableBytes { bytes in
            Result { () throws(RecordDecodingError) in try HeaderLine.check(bytes) }
        }
        guard case .failure(let error) = result else { return }
        switch error.kind {
        case .syntax: throw WireError(.badJSON, "line 1 is not a JSON object: \(error.message)")
        case .line: throw WireError(.badLine, "line 1: \(error.message)")
        case .structure: throw WireError(.badField, "header: \(error.message)")
        }
    }

    private static func probeType(_ line: ByteBuffer, decoder: JSONDecoder) throws(WireError) -> MessageType {
        let probe: TypeProbe
        do {
            probe = try decoder.decode(TypeProbe.self, from: line)
        } catch DecodingError.typeMismatch(_, let context) where !context.codingPath.isEmpty {
            throw WireError(.missingType, "the header's 'type' must be a string")
        } catch {
            throw WireError(.badJSON, "line 1 is not a JSON object")
        }
        guard let name = probe.type else {
            throw WireError(.missingType, "the header has no 'type'; one of \(MessageType.allCases.map(\.rawValue).joined(separator: ", ")) is required")
        }
        guard let type = MessageType(rawValue: name) else {
            throw WireError(.unknownType, "unknown message type '\(name)'; version \(WireProtocol.version) knows \(MessageType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return type
    }

    private static func records(_ lines: [ByteBuffer], form: RecordForm) throws(WireError) -> [ReplicatedRecord] {
        var records: [ReplicatedRecord] = []
        records.reserveCapacity(lines.count - 1)
        for (index, line) in lines.enumerated().dropFirst() {
            try checkUTF8(line, line: index + 1)
            let result = line.withUnsafeReadableBytes { bytes in
                Result { () throws(RecordDecodingError) in try ReplicatedRecord.decode(utf8: bytes, form: form) }
            }
            switch result {
            case .success(let record):
                records.append(record)
            case .failure(let error) where error.kind == .syntax:
                throw WireError(.badJSON, "line \(index + 1) is not a JSON object: \(error.message)")
            case .failure(let error) where error.kind == .line:
                throw WireError(.badLine, "line \(index + 1): \(error.message)")
            case .failure(let error):
                throw WireError(.badRecord, "line \(index + 1): record is not valid: \(error.message)")
            }
        }
        return records
    }
}

extension Message {
    /// Encodes the message as a whole frame (compressed when that pays).
    public func frame(allowCompression: Bool = true, form: RecordForm = WireProtocol.recordForm) throws -> WireFrame {
        try WireFrame.encoding(body: encodeBody(form: form), allowCompression: allowCompression)
    }

    /// Decodes a whole frame whose record lines are in `form`.
    public init(frame: WireFrame, limits: WireLimits = .default, form: RecordForm = WireProtocol.recordForm) throws(WireError) {
        self = try Message.decode(FrameBody.read(frame, limits: limits), form: form)
    }
}

private struct TypeProbe: Decodable {
    var type: String?
}

private struct Empty: Codable {}

/// A header struct with `type` added beside its own keys.
private struct Tagged<Header: Encodable>: Encodable {
    var type: MessageType
    var header: Header

    private struct TypeKey: CodingKey {
        var stringValue: String { "type" }
        var intValue: Int? { nil }
        init() {}
        init?(stringValue: String) { nil }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        try header.encode(to: encoder)
        var container = encoder.container(keyedBy: TypeKey.self)
        try container.encode(type.rawValue, forKey: TypeKey())
    }
}
