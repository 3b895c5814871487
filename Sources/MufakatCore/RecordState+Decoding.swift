extension RecordState {
    /// Decodes a state from its JSON in either form (canonical or not; the result is normalized).
    public init(json: String) throws(MufakatError) {
        var text = json
        let result: Result<RecordState, RecordDecodingError> = text.withUTF8 { bytes in
            Result { () throws(RecordDecodingError) in try RecordJSONParser.parseState(bytes) }
        }
        switch result {
        case .success(let state): self = state
        case .failure(let error): throw MufakatError(.malformed, "record state is not valid: \(error.message)")
        }
    }
}

extension ReplicatedRecord {
    /// Decodes a record line in either form, such as ``line(_:)`` writes.
    public init(json: String) throws(MufakatError) {
        var text = json
        let result: Result<ReplicatedRecord, RecordDecodingError> = text.withUTF8 { bytes in
            Result { () throws(RecordDecodingError) in try RecordJSONParser.parseRecord(bytes, form: nil) }
        }
        switch result {
        case .success(let record):
            if let refusal = record.refusal { throw MufakatError(.malformed, "record is not valid: \(refusal)") }
            self = record
        case .failure(let error): throw MufakatError(.malformed, "record is not valid: \(error.message)")
        }
    }
}

/// Turns `DecodingError` (from decoding message headers) into a sentence that names the
/// JSON path, not Swift types.
public enum JSONDecoding {
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
