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
        var bytes: [UInt8] = []
        bytes.reserveCapacity(string.utf8.count + 2)
        appendString(string, to: &bytes)
        output.append(String(decoding: bytes, as: UTF8.self))
    }

    /// Appends `string` as a JSON string literal, as UTF-8 bytes.
    public static func appendString(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(UInt8(ascii: "\\")); output.append(byte)
            case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\")); output.append(byte)
            case 0x08: output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "b"))
            case 0x09: output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "t"))
            case 0x0A: output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "n"))
            case 0x0C: output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "f"))
            case 0x0D: output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "r"))
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0xF)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    public static func quoted(_ string: String) -> String {
        var output: [UInt8] = []
        appendString(string, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    static func appendLiteral(_ text: StaticString, to output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    static func appendNumber<T: BinaryInteger>(_ number: T, to output: inout [UInt8]) {
        output.append(contentsOf: String(number).utf8)
    }

    static func appendValue(_ value: FieldValue, to output: inout [UInt8]) {
        switch value {
        case .null: appendLiteral("null", to: &output)
        case .bool(let flag): flag ? appendLiteral("true", to: &output) : appendLiteral("false", to: &output)
        case .integer(let number): appendNumber(number, to: &output)
        case .string(let string): appendString(string, to: &output)
        case .list(let items):
            output.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                appendString(item, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
    }

    static func appendEntry(_ entry: FieldEntry, to output: inout [UInt8]) {
        appendLiteral("{\"author\":", to: &output)
        appendString(entry.author, to: &output)
        appendLiteral(",\"dot\":[", to: &output)
        appendString(entry.dot.replica.rawValue, to: &output)
        output.append(UInt8(ascii: ","))
        appendNumber(entry.dot.counter, to: &output)
        appendLiteral("],\"time\":", to: &output)
        appendNumber(entry.time, to: &output)
        appendLiteral(",\"value\":", to: &output)
        appendValue(entry.value, to: &output)
        output.append(UInt8(ascii: "}"))
    }

    /// Appends `"context":{…},"fields":{…}` (expanded) or `"context":{…},"dots":[…],"fields":{…}`
    /// (compact) without the enclosing braces, so a record line can put `collection` before
    /// and `id` after and stay in sorted key order.
    static func appendStateMembers(_ state: RecordState, form: RecordForm = .expanded, to output: inout [UInt8]) {
        appendLiteral("\"context\":{", to: &output)
        for (index, item) in state.context.sorted.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            appendString(item.replica.rawValue, to: &output)
            output.append(UInt8(ascii: ":"))
            appendNumber(item.counter, to: &output)
        }
        output.append(UInt8(ascii: "}"))
        let names = state.fields.keys.sorted { $0.utf8Precedes($1) }
        let appendFieldEntry: (FieldEntry, inout [UInt8]) -> Void
        switch form {
        case .expanded:
            appendFieldEntry = { entry, output in appendEntry(entry, to: &output) }
        case .compact:
            // Each distinct (dot, time, author) once, in canonical order; entries name it by
            // its position. A record written in one operation has one. Records hold one or a
            // few writes: a sorted array searched in order beats hashing every entry's author.
            let stamps = state.writeStamps
            appendLiteral(",\"dots\":[", to: &output)
            for (index, stamp) in stamps.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                output.append(UInt8(ascii: "["))
                appendString(stamp.dot.replica.rawValue, to: &output)
                output.append(UInt8(ascii: ","))
                appendNumber(stamp.dot.counter, to: &output)
                output.append(UInt8(ascii: ","))
                appendNumber(stamp.time, to: &output)
                output.append(UInt8(ascii: ","))
                appendString(stamp.author, to: &output)
                output.append(UInt8(ascii: "]"))
            }
            output.append(UInt8(ascii: "]"))
            appendFieldEntry = { entry, output in
                output.append(UInt8(ascii: "["))
                appendNumber(stamps.count == 1 ? 0 : stamps.firstIndex { $0.stamps(entry) }!, to: &output)
                output.append(UInt8(ascii: ","))
                appendValue(entry.value, to: &output)
                output.append(UInt8(ascii: "]"))
            }
        }
        appendLiteral(",\"fields\":{", to: &output)
        for (index, name) in names.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            appendString(name, to: &output)
            appendLiteral(":[", to: &output)
            for (entryIndex, entry) in state.fields[name]!.enumerated() {
                if entryIndex > 0 { output.append(UInt8(ascii: ",")) }
                appendFieldEntry(entry, &output)
            }
            output.append(UInt8(ascii: "]"))
        }
        output.append(UInt8(ascii: "}"))
    }
}

extension RecordState {
    /// The canonical text of this state in the expanded form, `{"context":{…},"fields":{…}}`:
    /// what the digest hashes (PROTOCOL.md §6.5).
    public var canonicalJSON: String { json(.expanded) }

    /// The compact text of this state, `{"context":{…},"dots":[…],"fields":{…}}`: what the
    /// stores keep and protocol version 3 sends.
    public var compactJSON: String { json(.compact) }

    /// This state's text in `form`; one byte sequence per state in either form.
    public func json(_ form: RecordForm) -> String {
        var output: [UInt8] = [UInt8(ascii: "{")]
        output.reserveCapacity(form == .compact ? 512 : 1_024)
        CanonicalJSON.appendStateMembers(self, form: form, to: &output)
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    /// The distinct write metadata of the entries, in canonical order.
    var writeStamps: [WriteStamp] {
        var stamps: [WriteStamp] = []
        for entries in fields.values {
            for entry in entries
            where !stamps.contains(where: { $0.stamps(entry) }) {
                stamps.append(WriteStamp(entry))
            }
        }
        return stamps.count > 1 ? stamps.sorted() : stamps
    }
}

extension CanonicalJSON {
    /// A display document as a JSON object with sorted keys, as stored for SQL views.
    ///
    /// `rendered` adds members whose values are JSON text already (they sort with the rest).
    public static func document(_ document: [String: FieldValue], rendered: [String: String] = [:]) -> String {
        var output: [UInt8] = [UInt8(ascii: "{")]
        output.reserveCapacity(512)
        let names = Set(document.keys).union(rendered.keys)
        for (index, name) in names.sorted(by: { $0.utf8Precedes($1) }).enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            appendString(name, to: &output)
            output.append(UInt8(ascii: ":"))
            if let value = document[name] { appendValue(value, to: &output) } else { output += Array(rendered[name]!.utf8) }
        }
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    /// Conflicts as a JSON array: per field, its candidates in display order with value,
    /// author, replica, time (ms) and whether the candidate is the record's deletion.
    public static func conflicts(_ conflicts: [FieldConflict]) -> String {
        var output: [UInt8] = [UInt8(ascii: "[")]
        for (index, conflict) in conflicts.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            appendLiteral(#"{"candidates":["#, to: &output)
            for (number, candidate) in conflict.candidates.enumerated() {
                if number > 0 { output.append(UInt8(ascii: ",")) }
                appendLiteral(#"{"author":"#, to: &output)
                appendString(candidate.author, to: &output)
                appendLiteral(#","deletion":"#, to: &output)
                candidate.isDeletion ? appendLiteral("true", to: &output) : appendLiteral("false", to: &output)
                appendLiteral(#","replica":"#, to: &output)
                appendString(candidate.replica.rawValue, to: &output)
                appendLiteral(#","time":"#, to: &output)
                appendNumber(candidate.time, to: &output)
                appendLiteral(#","value":"#, to: &output)
                appendValue(candidate.value, to: &output)
                output.append(UInt8(ascii: "}"))
            }
            appendLiteral(#"],"field":"#, to: &output)
            appendString(conflict.field, to: &output)
            output.append(UInt8(ascii: "}"))
        }
        output.append(UInt8(ascii: "]"))
        return String(decoding: output, as: UTF8.self)
    }
}

extension String {
    /// Whether this string's UTF-8 bytes sort before `other`'s: the order of canonical text,
    /// the digest and SQLite's BINARY collation. Compares contiguous bytes when it can.
    public func utf8Precedes(_ other: String) -> Bool {
        let fast = utf8.withContiguousStorageIfAvailable { left in
            other.utf8.withContiguousStorageIfAvailable { right -> Bool in
                for index in 0..<Swift.min(left.count, right.count) where left[index] != right[index] {
                    return left[index] < right[index]
                }
                return left.count < right.count
            }
        }
        if let fast = fast ?? nil { return fast }
        return utf8.lexicographicallyPrecedes(other.utf8)
    }
}

extension String {
    /// Whether the two strings are the same UTF-8 bytes. Swift's `==` also calls "é" and
    /// "e" + U+0301 equal; replicated data must not, or which of two such texts a replica
    /// keeps would depend on the order it met them, and digests would differ.
    public func utf8Equal(_ other: String) -> Bool {
        let fast = utf8.withContiguousStorageIfAvailable { left in
            other.utf8.withContiguousStorageIfAvailable { right -> Bool in
                left.count == right.count && left.elementsEqual(right)
            }
        }
        if let fast = fast ?? nil { return fast }
        return utf8.elementsEqual(other.utf8)
    }

    /// Feeds this string's UTF-8 bytes to `hasher`, matching ``utf8Equal(_:)``.
    func hashUTF8(into hasher: inout Hasher) {
        hasher.combine(utf8.count)
        let done = utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) } != nil
        if !done { for byte in utf8 { hasher.combine(byte) } }
    }
}
