/// A record as it is stored, hashed and sent: where it lives and its replicated state.
///
/// It is one line of JSON, keys in sorted order, in one of two forms (``RecordForm``). The
/// compact form, which stores keep and protocol version 3 sends, lists each write once:
///
/// ```json
/// {"collection":"positions","context":{"3f9c0a17be2d4410":2},"dots":[["3f9c0a17be2d4410",2,1764390000000,"Andi (IOM)"]],"fields":{"stance":[[0,"ActiveSupport"]]},"id":"iom:ask-budget"}
/// ```
///
/// The expanded form, which version 2 sends and the digest hashes, repeats it per entry:
///
/// ```json
/// {"collection":"positions","context":{"3f9c0a17be2d4410":2},"fields":{"stance":[{"author":"Andi (IOM)","dot":["3f9c0a17be2d4410",2],"time":1764390000000,"value":"ActiveSupport"}]},"id":"iom:ask-budget"}
/// ```
public struct ReplicatedRecord: Hashable, Sendable {
    public var collection: String
    public var id: String
    public var state: RecordState
    /// Set when the line held a number out of its range: the state is then empty, and a hub
    /// refuses this record alone (`invalid`) rather than ending the session.
    public var refusal: RecordRefusal?
    /// The hub's voucher for this state (protocol 5, PROTOCOL.md §13): on every record a hub
    /// of version 5 serves, and on every record a laptop relays back to it. Not part of the
    /// state: the digest and the stores ignore it.
    public var voucher: String?
    /// Protocol 5: the tags of the state's writes the hub knows, by dot (PROTOCOL.md §13.5),
    /// covered by the voucher. Not part of the state.
    public var tags: [Dot: String]?

    public init(
        collection: String, id: String, state: RecordState, refusal: RecordRefusal? = nil, voucher: String? = nil, tags: [Dot: String]? = nil
    ) {
        self.collection = collection
        self.id = id
        self.state = state
        self.refusal = refusal
        self.voucher = voucher
        self.tags = tags
    }

    /// Characters of a voucher: 96 bits in unpadded base64url.
    public static let voucherCharacters = 16

    /// Whether `text` has a voucher's shape: ``voucherCharacters`` characters of A–Z, a–z,
    /// 0–9, `-` and `_`.
    public static func isVoucher(_ text: String) -> Bool {
        text.utf8.count == voucherCharacters && text.utf8.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }

    /// The canonical line of this record in the expanded form (no trailing newline): what
    /// the digest hashes.
    public var canonicalJSON: String {
        var bare = self
        bare.voucher = nil
        bare.tags = nil
        return bare.line(.expanded)
    }

    /// This record's line in `form` (no trailing newline).
    public func line(_ form: RecordForm) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(form == .compact ? 512 : 1_024)
        CanonicalJSON.appendLiteral("{\"collection\":", to: &output)
        CanonicalJSON.appendString(collection, to: &output)
        output.append(UInt8(ascii: ","))
        CanonicalJSON.appendStateMembers(state, form: form, to: &output)
        CanonicalJSON.appendLiteral(",\"id\":", to: &output)
        CanonicalJSON.appendString(id, to: &output)
        if let tags, !tags.isEmpty {
            CanonicalJSON.appendLiteral(",\"tags\":", to: &output)
            output += Array(RecordTags.json(tags).utf8)
        }
        if let voucher {
            CanonicalJSON.appendLiteral(",\"voucher\":", to: &output)
            CanonicalJSON.appendString(voucher, to: &output)
        }
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    /// The line built from a state's text in either form (``RecordState/json(_:)``), as a
    /// store holds it: the line is in the same form, with no decoding and encoding again.
    public static func line(collection: String, id: String, stateJSON: String, voucher: String? = nil, tagsJSON: String? = nil) -> String {
        // String appends copy whole runs of UTF-8 (a hub serving a pull spends its time here).
        var output = "{\"collection\":"
        output.reserveCapacity(stateJSON.utf8.count + collection.utf8.count + id.utf8.count + 32)
        CanonicalJSON.appendString(collection, to: &output)
        output.append(",")
        // Sliced by UTF-8 offsets: slicing by characters walks grapheme clusters.
        let utf8 = stateJSON.utf8
        if utf8.count >= 2 { output.append(contentsOf: stateJSON[utf8.index(after: utf8.startIndex)..<utf8.index(before: utf8.endIndex)]) }
        output.append(",\"id\":")
        CanonicalJSON.appendString(id, to: &output)
        if let tagsJSON, tagsJSON != "{}" {
            output.append(",\"tags\":")
            output.append(tagsJSON)
        }
        if let voucher {
            output.append(",\"voucher\":")
            CanonicalJSON.appendString(voucher, to: &output)
        }
        output.append("}")
        return output
    }

    /// Orders records by collection, then id, comparing UTF-8 bytes — the order of the
    /// digest and of SQLite's default collation.
    public static func precedes(_ lhs: (collection: String, id: String), _ rhs: (collection: String, id: String)) -> Bool {
        if lhs.collection != rhs.collection {
            return lhs.collection.utf8Precedes(rhs.collection)
        }
        return lhs.id.utf8Precedes(rhs.id)
    }
}
