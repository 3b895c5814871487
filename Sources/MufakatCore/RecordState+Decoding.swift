#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension FieldValue: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .integer(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let items = try? container.decode([String].self) {
            self = .list(items)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "a value must be null, true, false, a whole number, a string or a list of strings")
        }
    }
}

extension Dot: Decodable {
    /// A dot travels as `["replica", counter]`.
    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let replica = try container.decode(String.self)
        let counter = try container.decode(UInt64.self)
        guard container.isAtEnd else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "a dot is [replica, counter] and nothing more")
        }
        guard counter > 0 else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a dot's counter starts at 1")
        }
        do {
            self.init(replica: try ReplicaID(replica), counter: counter)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }
}

extension FieldEntry: Decodable {
    private enum CodingKeys: String, CodingKey { case author, dot, time, value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            dot: try container.decode(Dot.self, forKey: .dot),
            value: try container.decode(FieldValue.self, forKey: .value),
            time: try container.decode(Int64.self, forKey: .time),
            author: try container.decode(String.self, forKey: .author))
    }
}

extension RecordState: Decodable {
    private enum CodingKeys: String, CodingKey { case context, fields }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let rawContext = try container.decode([String: UInt64].self, forKey: .context)
        var context = VersionVector()
        for (replica, counter) in rawContext {
            do {
                context[try ReplicaID(replica)] = counter
            } catch {
                throw DecodingError.dataCorruptedError(
                    forKey: .context, in: container, debugDescription: error.message)
            }
        }
        let fields = try container.decode([String: [FieldEntry]].self, forKey: .fields)
        for name in fields.keys where name.isEmpty || name.utf8.count > 64 {
            throw DecodingError.dataCorruptedError(
                forKey: .fields, in: container, debugDescription: "field names are 1 to 64 characters long")
        }
        do {
            try self.init(context: context, fields: fields)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .fields, in: container, debugDescription: error.message)
        }
    }

    /// Decodes a state from its JSON (canonical or not; the result is normalized).
    public init(json: String) throws(MufakatError) {
        self = try JSONDecoding.decode(RecordState.self, from: json, what: "record state")
    }
}

extension ReplicatedRecord: Decodable {
    private enum CodingKeys: String, CodingKey { case collection, id }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            collection: try container.decode(String.self, forKey: .collection),
            id: try container.decode(String.self, forKey: .id),
            state: try RecordState(from: decoder))
    }

    /// Decodes a record line such as ``canonicalJSON`` writes.
    public init(json: String) throws(MufakatError) {
        self = try JSONDecoding.decode(ReplicatedRecord.self, from: json, what: "record")
    }
}

/// Turns `DecodingError` into a sentence that names the JSON path, not Swift types.
public enum JSONDecoding {
    public static func decode<T: Decodable>(_ type: T.Type, from json: String, what: String) throws(MufakatError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(json.utf8))
        } catch let error as DecodingError {
            throw MufakatError(.malformed, "\(what) is not valid: \(describe(error))")
        } catch {
            throw MufakatError(.malformed, "\(what) is not valid JSON")
        }
    }

    public static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "the top level" : "'\(text)'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing '\(key.stringValue)' at \(path(context.codingPath))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong kind of value at \(path(context.codingPath))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "not well-formed JSON" }
            return "\(context.debugDescription) at \(path(context.codingPath))"
        @unknown default:
            return "not well-formed JSON"
        }
    }
}
