/// Writes the canonical JSON text of record states: sorted keys, entries sorted by dot,
/// no spaces, and one fixed way to escape a string.
///
/// Canonical text is what the digest hashes, so two replicas holding the same states
/// produce byte-identical text. A foreign client that computes digests must write exactly
/// this form; `protocol/PROTOCOL.md` spells it out.
///
/// Strings escape `"` and `\` with a backslash, the control characters U+0008, U+0009,
/// U+000A, U+000C and U+000D as `\b \t \n \f \r`, the other characters below U+0020 as
/// `\u00xx` (lowercase hex), and nothing else: every other character is written as UTF-8.
public enum CanonicalJSON {
    /// Appends `string` as a JSON string literal.
    public static func appendString(_ string: String, to output: inout String) {
        // Most strings need no escaping: append them whole.
        if string.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            output.append("\"")
            output.append(string)
            output.append("\"")
            return
        }
        output.append("\"")
        var plainStart = string.unicodeScalars.startIndex
        let scalars = string.unicodeScalars
        var index = scalars.startIndex
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let escape: String?
            switch scalar {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\u{08}": escape = "\\b"
            case "\u{09}": escape = "\\t"
            case "\u{0A}": escape = "\\n"
            case "\u{0C}": escape = "\\f"
            case "\u{0D}": escape = "\\r"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escape = nil
            }
            if let escape {
                output.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
                output.append(escape)
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        output.unicodeScalars.append(contentsOf: scalars[plainStart..<scalars.endIndex])
        output.append("\"")
    }

    public static func quoted(_ string: String) -> String {
        var output = ""
        appendString(string, to: &output)
        return output
    }

    static func appendValue(_ value: FieldValue, to output: inout String) {
        switch value {
        case .null: output.append("null")
        case .bool(let flag): output.append(flag ? "true" : "false")
        case .integer(let number): output.append(String(number))
        case .string(let string): appendString(string, to: &output)
        case .list(let items):
            output.append("[")
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(",") }
                appendString(item, to: &output)
            }
            output.append("]")
        }
    }

    static func appendEntry(_ entry: FieldEntry, to output: inout String) {
        output.append("{\"author\":")
        appendString(entry.author, to: &output)
        output.append(",\"dot\":[")
        appendString(entry.dot.replica.rawValue, to: &output)
        output.append(",")
        output.append(String(entry.dot.counter))
        output.append("],\"time\":")
        output.append(String(entry.time))
        output.append(",\"value\":")
        appendValue(entry.value, to: &output)
        output.append("}")
    }

    /// Appends `"context":{…},"fields":{…}` without the enclosing braces, so a record line
    /// can put `collection` before and `id` after and stay in sorted key order.
    static func appendStateMembers(_ state: RecordState, to output: inout String) {
        output.append("\"context\":{")
        for (index, item) in state.context.sorted.enumerated() {
            if index > 0 { output.append(",") }
            appendString(item.replica.rawValue, to: &output)
            output.append(":")
            output.append(String(item.counter))
        }
        output.append("},\"fields\":{")
        let names = state.fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (index, name) in names.enumerated() {
            if index > 0 { output.append(",") }
            appendString(name, to: &output)
            output.append(":[")
            for (entryIndex, entry) in state.fields[name]!.enumerated() {
                if entryIndex > 0 { output.append(",") }
                appendEntry(entry, to: &output)
            }
            output.append("]")
        }
        output.append("}")
    }
}

extension RecordState {
    /// The canonical JSON of this state: `{"context":{…},"fields":{…}}`.
    public var canonicalJSON: String {
        var output = "{"
        CanonicalJSON.appendStateMembers(self, to: &output)
        output.append("}")
        return output
    }
}

extension CanonicalJSON {
    /// A display document as a JSON object with sorted keys, as stored for SQL views.
    public static func document(_ document: [String: FieldValue]) -> String {
        var output = "{"
        for (index, name) in document.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            if index > 0 { output.append(",") }
            appendString(name, to: &output)
            output.append(":")
            appendValue(document[name]!, to: &output)
        }
        output.append("}")
        return output
    }
}
