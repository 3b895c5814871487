/// Why a record's JSON was refused: broken JSON (``Kind/syntax``), a line breaking the
/// body's text rules (``Kind/line``), or JSON of the wrong shape (``Kind/structure``: a
/// missing member, a value of the wrong kind, an entry outside the context).
public struct RecordDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// Not well-formed JSON, or a member name used twice in one object (`bad-json`).
        case syntax
        /// A carriage return or a byte-order mark (`bad-line`).
        case line
        /// Well-formed JSON that is not a record state (`bad-record`).
        case structure
    }

    public var kind: Kind
    public var message: String

    public var isSyntaxError: Bool { kind == .syntax }
    public var description: String { message }
}

/// Why one record of a push is refused on its own, the session going on: a number that is
/// well-formed JSON but not an integer in the member's range (`1.0`, `1e3`, `-0`, a
/// counter of 2^64, a value of 2^63). The record keeps its collection and id so the
/// refusal can name it.
public struct RecordRefusal: Hashable, Sendable, CustomStringConvertible {
    /// The field concerned, `nil` for the context.
    public var field: String?
    public var reason: String

    public init(field: String?, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { field.map { "\($0): \(reason)" } ?? reason }
}

/// A parser for record JSON, the hot path of every pull: it reads UTF-8 bytes straight
/// into ``ReplicatedRecord`` values.
///
/// It accepts any valid JSON of the record shape — members in any order, whitespace
/// anywhere, unknown members skipped — and refuses everything else. Foundation's
/// `JSONDecoder` did the same work about ten times slower (see the micro benchmark), which
/// made decoding the largest cost of an initial sync.
struct RecordJSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private static let maxDepth = 64
    /// The first number out of its range, when there is one: the record is then refused
    /// alone (``RecordRefusal``) and its state is not built.
    private var refusal: RecordRefusal?

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// A record line; a number out of range gives the record with an empty state and
    /// ``ReplicatedRecord/refusal`` set.
    static func parseRecord(_ bytes: UnsafeBufferPointer<UInt8>, form: RecordForm?) throws(RecordDecodingError) -> ReplicatedRecord {
        var parser = RecordJSONParser(bytes)
        let record = try parser.record(requireLocation: true, form: form)
        try parser.end()
        return ReplicatedRecord(
            collection: record.collection ?? "", id: record.id ?? "", state: record.state, refusal: parser.refusal,
            voucher: record.voucher, tags: record.tags)
    }

    /// A write line of protocol 5 (``PushedWrite``).
    static func parseWrite(_ bytes: UnsafeBufferPointer<UInt8>) throws(RecordDecodingError) -> PushedWrite {
        var parser = RecordJSONParser(bytes)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw RecordDecodingError(kind: .line, message: "the line starts with a byte-order mark (EF BB BF); lines are plain UTF-8 without one")
        }
        parser.skipSpace()
        guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "{") else { throw parser.syntax("the text is not a JSON object") }
        var collection: String?
        var id: String?
        var writeID: WriteID?
        var values: [String: FieldValue]?
        var context: VersionVector?
        var after: [WriteID]?
        var entered: Int64?
        var author: String?
        var others = Set<String>()
        func writeIDs(_ text: String, _ parser: RecordJSONParser, at path: String) throws(RecordDecodingError) -> WriteID {
            guard WriteID.isValid(text) else {
                throw parser.structure("'\(text.prefix(80))' at '\(path)' is not a write id: 32 lowercase hexadecimal digits, '-', and a number from 1")
            }
            return WriteID(unchecked: text)
        }
        try parser.object { (parser: inout RecordJSONParser, key: String) throws(RecordDecodingError) in
            switch key {
            case "collection":
                try parser.once(collection == nil, key)
                collection = try parser.string(at: key)
            case "id":
                try parser.once(id == nil, key)
                id = try parser.string(at: key)
            case "write":
                try parser.once(writeID == nil, key)
                writeID = try writeIDs(try parser.string(at: key), parser, at: key)
            case "values":
                try parser.once(values == nil, key)
                var read: [String: FieldValue] = [:]
                try parser.object { (parser: inout RecordJSONParser, name: String) throws(RecordDecodingError) in
                    guard !name.isEmpty, name.utf8.count <= 64 else { throw parser.structure("field names are 1 to 64 characters long at 'values'") }
                    try parser.once(read[name] == nil, name)
                    read[name] = try parser.value(field: name)
                }
                values = read
            case "context":
                try parser.once(context == nil, key)
                context = try parser.context()
            case "after":
                try parser.once(after == nil, key)
                var read: [WriteID] = []
                try parser.array(at: key) { (parser: inout RecordJSONParser) throws(RecordDecodingError) in
                    read.append(try writeIDs(try parser.string(at: key), parser, at: key))
                }
                after = read
            case "entered":
                try parser.once(entered == nil, key)
                guard case .value(false, let number) = try parser.integer(at: key), number <= UInt64(Int64.max) else {
                    throw parser.structure("'entered' is milliseconds since 1970, an integer from 0 to 2^63 − 1")
                }
                entered = Int64(number)
            case "author":
                try parser.once(author == nil, key)
                author = try parser.string(at: key)
            default:
                try parser.once(others.insert(key).inserted, key)
                try parser.skipValue(depth: 1)
            }
        }
        try parser.end()
        if let refusal = parser.refusal { throw parser.structure(refusal.description) }
        for (name, value) in [("collection", collection as Any?), ("id", id), ("write", writeID), ("values", values), ("context", context),
                              ("after", after), ("entered", entered), ("author", author)] where value == nil {
            throw parser.structure("missing '\(name)' at the top level of a write line")
        }
        return PushedWrite(
            collection: collection!, id: id!,
            write: PendingWrite(id: writeID!, values: values!, context: context!, after: after!, enteredAt: entered!, author: author!))
    }

    static func parseState(_ bytes: UnsafeBufferPointer<UInt8>) throws(RecordDecodingError) -> RecordState {
        var parser = RecordJSONParser(bytes)
        let record = try parser.record(requireLocation: false, form: nil)
        try parser.end()
        if let refusal = parser.refusal { throw parser.structure(refusal.description) }
        return record.state
    }

    // MARK: Structure

    /// A record object; `form` is the form it must be in, `nil` for either. The form is the
    /// record's own: a `dots` member makes it compact, and then every entry is `[index, value]`.
    private mutating func record(
        requireLocation: Bool, form: RecordForm?
    ) throws(RecordDecodingError) -> (collection: String?, id: String?, state: RecordState, voucher: String?, tags: [Dot: String]?) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw RecordDecodingError(kind: .line, message: "the line starts with a byte-order mark (EF BB BF); lines are plain UTF-8 without one")
        }
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { throw syntax("the text is not a JSON object") }
        var collection: String?
        var id: String?
        var context: VersionVector?
        var parsedFields: [String: [ParsedEntry]]?
        var stamps: [WriteStamp]?
        var voucher: String?
        var tags: [Dot: String]?
        var others = Set<String>()
        try object { (parser: inout RecordJSONParser, key: String) throws(RecordDecodingError) in
            switch key {
            case "collection" where requireLocation:
                try parser.once(collection == nil, key)
                collection = try parser.string(at: key)
            case "id" where requireLocation:
                try parser.once(id == nil, key)
                id = try parser.string(at: key)
            case "context":
                try parser.once(context == nil, key)
                context = try parser.context()
            case "fields":
                try parser.once(parsedFields == nil, key)
                parsedFields = try parser.fields()
            case "dots":
                try parser.once(stamps == nil, key)
                stamps = try parser.stamps()
            case "tags" where requireLocation:
                try parser.once(tags == nil, key)
                var read: [Dot: String] = [:]
                try parser.object { (parser: inout RecordJSONParser, name: String) throws(RecordDecodingError) in
                    guard let dot = RecordTags.dot(name) else {
                        throw parser.structure("'tags' keys are 'actor:counter' (PROTOCOL.md §13.5), not '\(name.prefix(80))'")
                    }
                    let tag = try parser.string(at: "tags")
                    guard RecordTags.isTag(tag) else {
                        throw parser.structure("'tags' values are 32 lowercase hexadecimal digits, '-' and a number (PROTOCOL.md §13.5)")
                    }
                    try parser.once(read.updateValue(tag, forKey: dot) == nil, name)
                }
                tags = read
            case "voucher" where requireLocation:
                try parser.once(voucher == nil, key)
                voucher = try parser.string(at: key)
                guard ReplicatedRecord.isVoucher(voucher!) else {
                    throw parser.structure("'voucher' is \(ReplicatedRecord.voucherCharacters) base64url characters (PROTOCOL.md §13)")
                }
            default:
                try parser.once(others.insert(key).inserted, key)
                try parser.skipValue(depth: 1)
            }
        }
        if requireLocation {
            guard collection != nil else { throw structure("missing 'collection' at the top level") }
            guard id != nil else { throw structure("missing 'id' at the top level") }
        }
        guard let context else { throw structure("missing 'context' at the top level") }
        guard let parsedFields else { throw structure("missing 'fields' at the top level") }
        let fields = try resolve(parsedFields, stamps: stamps, form: form)
        for name in fields.keys where name.isEmpty || name.utf8.count > 64 {
            throw structure("field names are 1 to 64 characters long at 'fields'")
        }
        if refusal != nil { return (collection, id, RecordState(), voucher, tags) }
        do {
            return (collection, id, try RecordState(context: context, fields: fields), voucher, tags)
        } catch {
            throw structure(error.message)
        }
    }

    /// A member name used twice in one object: JSON texts here have unique names, so two
    /// implementations cannot read one line differently (one taking the first, one the last).
    private func once(_ first: Bool, _ key: String) throws(RecordDecodingError) {
        guard first else { throw syntax("member '\(key)' appears twice in one object") }
    }

    private mutating func refuse(_ field: String?, _ reason: String) {
        if refusal == nil { refusal = RecordRefusal(field: field, reason) }
    }

    private mutating func context() throws(RecordDecodingError) -> VersionVector {
        var counters: [ReplicaID: UInt64] = [:]
        try object { (parser: inout RecordJSONParser, key: String) throws(RecordDecodingError) in
            guard let replica = try? ReplicaID(key) else {
                throw parser.structure("replica id '\(key)' is not valid: use 1 to 64 characters from a-z, 0-9 and '-' at 'context'")
            }
            let counter = try parser.integer(at: "context.\(key)")
            try parser.once(counters.updateValue(0, forKey: replica) == nil, key)
            switch counter {
            case .value(false, let magnitude): counters[replica] = magnitude
            default: parser.refuse(nil, "context counters are integers from 0 to 2^64 − 1 in plain decimal (at 'context.\(key)')")
            }
        }
        return VersionVector(counters)
    }

    /// An entry as read: a whole one (expanded form), or a reference into `dots` (compact).
    private enum ParsedEntry {
        case whole(FieldEntry)
        case reference(Int, FieldValue)
    }

    private mutating func fields() throws(RecordDecodingError) -> [String: [ParsedEntry]] {
        var fields: [String: [ParsedEntry]] = [:]
        try object { (parser: inout RecordJSONParser, name: String) throws(RecordDecodingError) in
            var entries: [ParsedEntry] = []
            try parser.array(at: "fields.\(name)") { (parser: inout RecordJSONParser) throws(RecordDecodingError) in
                parser.skipSpace()
                if parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "[") {
                    entries.append(try parser.reference(field: name))
                } else {
                    entries.append(.whole(try parser.entry(field: name)))
                }
            }
            try parser.once(fields.updateValue(entries, forKey: name) == nil, name)
        }
        return fields
    }

    /// A compact entry, `[index, value]`.
    private mutating func reference(field: String) throws(RecordDecodingError) -> ParsedEntry {
        let path = "fields.\(field)"
        var position: Int?
        var value: FieldValue?
        var count = 0
        try array(at: path) { (parser: inout RecordJSONParser) throws(RecordDecodingError) in
            switch count {
            case 0:
                guard case .value(false, let number) = try parser.integer(at: path), number < UInt64(Int.max) else {
                    throw parser.structure("a compact entry's index is a whole number from 0 to the number of writes in 'dots' less one, at '\(path)'")
                }
                position = Int(number)
            case 1: value = try parser.value(field: field)
            default: try parser.skipValue(depth: 4)
            }
            count += 1
        }
        guard count == 2, let position, let value else {
            throw structure("a compact entry is [index, value], two members, at '\(path)'")
        }
        return .reference(position, value)
    }

    /// The compact form's `dots`: `[replica, counter, time, author]` per write.
    private mutating func stamps() throws(RecordDecodingError) -> [WriteStamp] {
        var stamps: [WriteStamp] = []
        try array(at: "dots") { (parser: inout RecordJSONParser) throws(RecordDecodingError) in
            var replica: String?
            var counter: Integer?
            var time: Integer?
            var author: String?
            var count = 0
            try parser.array(at: "dots") { (parser: inout RecordJSONParser) throws(RecordDecodingError) in
                switch count {
                case 0: replica = try parser.string(at: "dots")
                case 1: counter = try parser.integer(at: "dots")
                case 2: time = try parser.integer(at: "dots")
                case 3: author = try parser.string(at: "dots")
                default: try parser.skipValue(depth: 4)
                }
                count += 1
            }
            guard count == 4, let replica, let counter, let time, let author else {
                throw parser.structure("a write in 'dots' is [replica, counter, time, author], four members")
            }
            guard let id = try? ReplicaID(replica) else {
                throw parser.structure("replica id '\(replica)' is not valid: use 1 to 64 characters from a-z, 0-9 and '-' at 'dots'")
            }
            var dot = Dot(replica: id, counter: 1)
            if case .value(false, let number) = counter, number > 0 {
                dot.counter = number
            } else {
                parser.refuse(nil, "a dot's counter is an integer from 1 to 2^64 − 1 in plain decimal (at 'dots')")
            }
            var milliseconds: Int64 = 0
            if case .value(false, let number) = time, number <= UInt64(Int64.max) {
                milliseconds = Int64(number)
            } else {
                parser.refuse(nil, "a write's time is an integer from 0 to 2^63 − 1 in plain decimal (milliseconds since 1970, at 'dots')")
            }
            stamps.append(WriteStamp(dot: dot, time: milliseconds, author: author))
        }
        return stamps
    }

    /// Builds the entries of either form, checking that the record keeps to one.
    private func resolve(
        _ parsed: [String: [ParsedEntry]], stamps: [WriteStamp]?, form: RecordForm?
    ) throws(RecordDecodingError) -> [String: [FieldEntry]] {
        let actual: RecordForm = stamps == nil ? .expanded : .compact
        if let form, form != actual {
            throw structure(
                form == .compact
                    ? "the record has no 'dots': protocol version 3 sends records in the compact form (PROTOCOL.md §6.1)"
                    : "the record has 'dots': protocol version 2 sends records in the expanded form (PROTOCOL.md §6.1)")
        }
        if let stamps, refusal == nil, Set(stamps).count != stamps.count {
            throw structure("'dots' lists one write twice")
        }
        var fields: [String: [FieldEntry]] = [:]
        fields.reserveCapacity(parsed.count)
        for (name, entries) in parsed {
            var built: [FieldEntry] = []
            built.reserveCapacity(entries.count)
            for entry in entries {
                switch (entry, stamps) {
                case (.whole(let whole), nil):
                    built.append(whole)
                case (.reference(let position, let value), let stamps?):
                    guard position < stamps.count else {
                        throw structure("an entry of 'fields.\(name)' names write \(position), but 'dots' lists \(stamps.count)")
                    }
                    let stamp = stamps[position]
                    built.append(FieldEntry(dot: stamp.dot, value: value, time: stamp.time, author: stamp.author))
                case (.whole, _?):
                    throw structure("'fields.\(name)' holds an entry object in a compact record; its entries are [index, value]")
                case (.reference, nil):
                    throw structure("'fields.\(name)' holds an [index, value] entry, but the record has no 'dots'")
                }
            }
            fields[name] = built
        }
        return fields
    }

    private mutating func entry(field: String) throws(RecordDecodingError) -> FieldEntry {
        let path = "fields.\(field)"
        var author: String?
        var dot: Dot?
        var time: Int64?
        var value: FieldValue?
        var others = Set<String>()
        try object { (parser: inout RecordJSONParser, key: String) throws(RecordDecodingError) in
            switch key {
            case "author":
                try parser.once(author == nil, key)
                author = try parser.string(at: "\(path).author")
            case "dot":
                try parser.once(dot == nil, key)
                dot = try parser.dot(field: field)
            case "time":
                try parser.once(time == nil, key)
                switch try parser.integer(at: "\(path).time") {
                case .value(false, let magnitude) where magnitude <= UInt64(Int64.max): time = Int64(magnitude)
                default:
                    time = 0
                    parser.refuse(field, "an entry's time is an integer from 0 to 2^63 − 1 in plain decimal (milliseconds since 1970)")
                }
            case "value":
                try parser.once(value == nil, key)
                value = try parser.value(field: field)
            default:
                try parser.once(others.insert(key).inserted, key)
                try parser.skipValue(depth: 4)
            }
        }
        guard let author else { throw structure("missing 'author' at '\(path)'") }
        guard let dot else { throw structure("missing 'dot' at '\(path)'") }
        guard let time else { throw structure("missing 'time' at '\(path)'") }
        guard let value else { throw structure("missing 'value' at '\(path)'") }
        return FieldEntry(dot: dot, value: value, time: time, author: author)
    }

    private mutating func dot(field: String) throws(RecordDecodingError) -> Dot {
        let path = "fields.\(field).dot"
        var replica: String?
        var number: Integer?
        var count = 0
        try array(at: path) { (parser: inout RecordJSONParser) throws(RecordDecodingError) in
            switch count {
            case 0: replica = try parser.string(at: path)
            case 1: number = try parser.integer(at: path)
            default: try parser.skipValue(depth: 5)
            }
            count += 1
        }
        guard count == 2, let replica, let number else {
            throw structure("a dot is [replica, counter], two members, at '\(path)'")
        }
        guard let id = try? ReplicaID(replica) else {
            throw structure("replica id '\(replica)' is not valid: use 1 to 64 characters from a-z, 0-9 and '-' at '\(path)'")
        }
        guard case .value(false, let counter) = number, counter > 0 else {
            refuse(field, "a dot's counter is an integer from 1 to 2^64 − 1 in plain decimal")
            return Dot(replica: id, counter: 1)
        }
        return Dot(replica: id, counter: counter)
    }

    private mutating func value(field: String) throws(RecordDecodingError) -> FieldValue {
        let path = "fields.\(field).value"
        skipSpace()
        guard index < bytes.count else { throw syntax("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "\""): return .string(try string(at: path))
        case UInt8(ascii: "["):
            var items: [String] = []
            try array(at: path) { (parser: inout RecordJSONParser) throws(RecordDecodingError) in
                items.append(try parser.string(at: path))
            }
            return .list(items)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            switch try integer(at: path) {
            case .value(false, let magnitude) where magnitude <= UInt64(Int64.max):
                return .integer(Int64(magnitude))
            case .value(true, let magnitude) where magnitude > 0 && magnitude <= UInt64(Int64.max):
                return .integer(-Int64(magnitude))
            default:
                refuse(field, "a number value is an integer from −(2^63 − 1) to 2^63 − 1 in plain decimal, without fraction, exponent or minus zero")
                return .null
            }
        default:
            throw structure("a value must be null, true, false, a whole number, a string or a list of strings at '\(path)'")
        }
    }

    // MARK: JSON

    private mutating func object(_ member: (inout RecordJSONParser, String) throws(RecordDecodingError) -> Void) throws(RecordDecodingError) {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else {
            guard index < bytes.count else { throw syntax("unexpected end") }
            throw structure("wrong kind of value: expected an object")
        }
        index += 1
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            let key = try rawString()
            try expect(UInt8(ascii: ":"), "expected ':' after a key")
            try member(&self, key)
            skipSpace()
            guard index < bytes.count else { throw syntax("unexpected end inside an object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw syntax("expected ',' or '}'") }
            index += 1
            return
        }
    }

    private mutating func array(at path: String, _ element: (inout RecordJSONParser) throws(RecordDecodingError) -> Void) throws(RecordDecodingError) {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else {
            throw structure("wrong kind of value at '\(path)': expected a list")
        }
        index += 1
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            try element(&self)
            skipSpace()
            guard index < bytes.count else { throw syntax("unexpected end inside a list") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw syntax("expected ',' or ']'") }
            index += 1
            return
        }
    }

    private mutating func string(at path: String) throws(RecordDecodingError) -> String {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            throw structure("wrong kind of value at '\(path)': expected a string")
        }
        return try rawString()
    }

    /// A JSON string; the opening quote is next (after whitespace).
    private mutating func rawString() throws(RecordDecodingError) -> String {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw syntax("expected a string") }
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            guard byte >= 0x20 else { throw syntax("control character inside a string") }
            index += 1
        }
        throw syntax("unterminated string")
    }

    private mutating func escapedString(from start: Int) throws(RecordDecodingError) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self).unicodeScalars)
        var plainStart = index
        func flush(_ parser: RecordJSONParser, _ end: Int) {
            if end > plainStart {
                scalars.append(contentsOf: String(decoding: UnsafeBufferPointer(rebasing: parser.bytes[plainStart..<end]), as: UTF8.self).unicodeScalars)
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                flush(self, index)
                index += 1
                return String(scalars)
            }
            guard byte >= 0x20 else { throw syntax("control character inside a string") }
            guard byte == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            flush(self, index)
            index += 1
            guard index < bytes.count else { throw syntax("unterminated string") }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800...0xDBFF).contains(code) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw syntax("lone surrogate in \\u escape")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw syntax("lone surrogate in \\u escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw syntax("lone surrogate in \\u escape")
                }
                scalars.append(Unicode.Scalar(code)!)
            default:
                throw syntax("unknown escape in a string")
            }
            plainStart = index
        }
        throw syntax("unterminated string")
    }

    private mutating func hex4() throws(RecordDecodingError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw syntax("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw syntax("bad \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// A JSON number read as an integer: its sign and magnitude, or why it is none.
    enum Integer: Hashable {
        case value(negative: Bool, magnitude: UInt64)
        /// Written with a fraction or an exponent.
        case notInteger
        /// Beyond 2^64 − 1 in magnitude.
        case tooLarge
    }

    /// Reads a JSON number (a leading zero is not JSON: a syntax error); what kind of
    /// integer it is, the caller decides.
    private mutating func integer(at path: String) throws(RecordDecodingError) -> Integer {
        skipSpace()
        guard index < bytes.count else { throw syntax("unexpected end") }
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        guard index > start else {
            if !negative, start < bytes.count,
                [UInt8(ascii: "\""), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n")].contains(bytes[start])
            {
                throw structure("wrong kind of value at '\(path)': expected a whole number")
            }
            throw syntax("expected a number")
        }
        guard bytes[start] != UInt8(ascii: "0") || index - start == 1 else { throw syntax("leading zero in a number") }
        let digits = bytes[start..<index]
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            try skipNumberTail()
            return .notInteger
        }
        var magnitude: UInt64 = 0
        for digit in digits {
            let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (plus, overflow2) = times.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return .tooLarge }
            magnitude = plus
        }
        return .value(negative: negative, magnitude: magnitude)
    }

    private mutating func skipNumberTail() throws(RecordDecodingError) {
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > start else { throw syntax("expected digits after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > start else { throw syntax("expected digits in an exponent") }
        }
    }

    /// Skips any JSON value (an unknown member), refusing nesting deeper than 64 and names
    /// used twice; its numbers are not checked.
    private mutating func skipValue(depth: Int) throws(RecordDecodingError) {
        try walkValue(path: nil, depth: depth)
    }

    /// Reads past one JSON value, refusing nesting deeper than 64 and member names used twice
    /// in one object. With a `path` (a header), every number must be an integer from 0 to
    /// 2^64 − 1, and the error names the member.
    private mutating func walkValue(path: String?, depth: Int) throws(RecordDecodingError) {
        guard depth < Self.maxDepth else { throw syntax("nested too deeply") }
        skipSpace()
        guard index < bytes.count else { throw syntax("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            var names = Set<String>()
            try object { (parser: inout RecordJSONParser, name: String) throws(RecordDecodingError) in
                try parser.once(names.insert(name).inserted, name)
                try parser.walkValue(path: path.map { $0.isEmpty ? name : "\($0).\(name)" }, depth: depth + 1)
            }
        case UInt8(ascii: "["):
            var position = 0
            try array(at: path ?? "") { (parser: inout RecordJSONParser) throws(RecordDecodingError) in
                try parser.walkValue(path: path.map { "\($0)[\(position)]" }, depth: depth + 1)
                position += 1
            }
        case UInt8(ascii: "\""): _ = try rawString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default:
            let number = try integer(at: path ?? "")
            guard let path else { return }
            guard case .value(false, _) = number else {
                throw structure("'\(path)' must be an integer from 0 to 2^64 − 1 in plain decimal (no sign, fraction or exponent)")
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws(RecordDecodingError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw syntax("unexpected end") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw syntax("unexpected word")
        }
        index += count
    }

    private mutating func expect(_ byte: UInt8, _ message: String) throws(RecordDecodingError) {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { throw syntax(message) }
        index += 1
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A: index += 1
            default: return
            }
        }
    }

    private mutating func end() throws(RecordDecodingError) {
        skipSpace()
        guard index == bytes.count else { throw syntax("text after the end of the object") }
    }

    /// Broken JSON, or a carriage return: JSON would take one between tokens as space, but
    /// lines here never hold one (a CRLF line end would otherwise pass unseen).
    private func syntax(_ message: String) -> RecordDecodingError {
        if let carriageReturn = bytes.firstIndex(of: 0x0D) {
            return RecordDecodingError(
                kind: .line, message: "a carriage return (0D) at byte \(carriageReturn); lines end with LF alone and hold no CR")
        }
        return RecordDecodingError(kind: .syntax, message: "not well-formed JSON at byte \(index): \(message)")
    }

    private func structure(_ message: String) -> RecordDecodingError {
        RecordDecodingError(kind: .structure, message: message)
    }
}

extension RecordJSONParser {
    /// Checks a message header line against the rules a general JSON decoder does not
    /// apply: no byte-order mark or carriage return (``RecordDecodingError/Kind/line``);
    /// one JSON object with unique member names at every depth
    /// (``RecordDecodingError/Kind/syntax``); every number, in known members or not, an
    /// integer from 0 to 2^64 − 1 in plain decimal — no sign, fraction, exponent
    /// (``RecordDecodingError/Kind/structure``, naming the member).
    static func checkHeader(_ bytes: UnsafeRawBufferPointer) throws(RecordDecodingError) {
        var parser = RecordJSONParser(bytes.assumingMemoryBound(to: UInt8.self))
        if parser.bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw RecordDecodingError(kind: .line, message: "the line starts with a byte-order mark (EF BB BF); lines are plain UTF-8 without one")
        }
        parser.skipSpace()
        guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "{") else {
            throw parser.syntax("the text is not a JSON object")
        }
        try parser.walkValue(path: "", depth: 0)
        try parser.end()
    }
}

/// The rules of a message header line beyond JSON's own (PROTOCOL.md §3).
public enum HeaderLine {
    /// Checks a header line; see ``RecordJSONParser/checkHeader(_:)``. The error's kind
    /// gives the wire code: syntax `bad-json`, line `bad-line`, structure `bad-field`.
    public static func check(_ bytes: UnsafeRawBufferPointer) throws(RecordDecodingError) {
        try RecordJSONParser.checkHeader(bytes)
    }
}

extension ReplicatedRecord {
    /// Decodes a record line from UTF-8 bytes. A record whose numbers are out of range
    /// comes back with ``refusal`` set and an empty state, for a hub to refuse it alone.
    ///
    /// `form` is the form the line must be in (a session's, from its protocol version);
    /// `nil` takes either.
    public static func decode(utf8 bytes: UnsafeRawBufferPointer, form: RecordForm?) throws(RecordDecodingError) -> ReplicatedRecord {
        try RecordJSONParser.parseRecord(bytes.assumingMemoryBound(to: UInt8.self), form: form)
    }
}
