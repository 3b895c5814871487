/// A record as it is stored, hashed and sent: where it lives and its replicated state.
///
/// Its canonical JSON is one line, keys in sorted order:
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

    public init(collection: String, id: String, state: RecordState, refusal: RecordRefusal? = nil) {
        self.collection = collection
        self.id = id
        self.state = state
        self.refusal = refusal
    }

    /// The canonical line of this record (no trailing newline).
    public var canonicalJSON: String {
        var output: [UInt8] = []
        output.reserveCapacity(1_024)
        CanonicalJSON.appendLiteral("{\"collection\":", to: &output)
        CanonicalJSON.appendString(collection, to: &output)
        output.append(UInt8(ascii: ","))
        CanonicalJSON.appendStateMembers(state, to: &output)
        CanonicalJSON.appendLiteral(",\"id\":", to: &output)
        CanonicalJSON.appendString(id, to: &output)
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    /// The canonical line built from an already canonical state text, as a store holds it;
    /// cheaper than decoding and encoding again.
    public static func canonicalJSON(collection: String, id: String, stateJSON: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(stateJSON.utf8.count + collection.utf8.count + id.utf8.count + 24)
        CanonicalJSON.appendLiteral("{\"collection\":", to: &output)
        CanonicalJSON.appendString(collection, to: &output)
        output.append(UInt8(ascii: ","))
        output.append(contentsOf: stateJSON.utf8.dropFirst().dropLast())
        CanonicalJSON.appendLiteral(",\"id\":", to: &output)
        CanonicalJSON.appendString(id, to: &output)
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    /// Orders records by collection, then id, comparing UTF-8 bytes — the order of the
    /// digest and of SQLite's default collation.
    public static func precedes(_ lhs: (collection: String, id: String), _ rhs: (collection: String, id: String)) -> Bool {
        if lhs.collection != rhs.collection {
            return lhs.collection.utf8.lexicographicallyPrecedes(rhs.collection.utf8)
        }
        return lhs.id.utf8.lexicographicallyPrecedes(rhs.id.utf8)
    }
}
