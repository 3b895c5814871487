/// The two ways a record line is written (PROTOCOL.md §6.1).
///
/// - ``expanded``: every entry an object with its write's `author`, `dot` and `time`
///   (protocol version 2). Its text is the **canonical text** the digest hashes (§6.5),
///   whatever form a store or a session uses, so a digest depends on the data alone.
/// - ``compact``: each write's dot, time and author once per record, in `dots`, and each
///   entry `[index, value]` naming one of them (protocol version 3, and what the stores keep).
///   A record written in one operation carries its metadata once instead of once per field.
public enum RecordForm: Hashable, Sendable, CustomStringConvertible {
    case expanded
    case compact

    /// The form a session of protocol `version` carries: `compact` from version 3.
    public init(protocolVersion version: Int) {
        self = version >= 3 ? .compact : .expanded
    }

    /// Whether a state's text, as a store holds it, is in the compact form — checked without
    /// parsing: a context holds no object, so its first `}` ends it, and `dots` follows.
    public static func isCompact(stateJSON text: String) -> Bool {
        var utf8 = text.utf8.makeIterator()
        while let byte = utf8.next() {
            guard byte == UInt8(ascii: "}") else { continue }
            for expected in #","dots":["#.utf8 where utf8.next() != expected { return false }
            return true
        }
        return false
    }

    public var description: String {
        switch self {
        case .expanded: "expanded (version 2)"
        case .compact: "compact (version 3)"
        }
    }
}

/// One write's metadata as the compact form lists it in `dots`: `[replica, counter, time, author]`.
///
/// Writes order by dot, then time, then author bytes, which is their canonical order.
struct WriteStamp: Hashable, Comparable {
    var dot: Dot
    var time: Int64
    var author: String

    init(_ entry: FieldEntry) {
        dot = entry.dot
        time = entry.time
        author = entry.author
    }

    init(dot: Dot, time: Int64, author: String) {
        self.dot = dot
        self.time = time
        self.author = author
    }

    static func == (lhs: WriteStamp, rhs: WriteStamp) -> Bool {
        lhs.dot == rhs.dot && lhs.time == rhs.time && lhs.author.utf8Equal(rhs.author)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(dot)
        hasher.combine(time)
        author.hashUTF8(into: &hasher)
    }

    /// Whether `entry` was written by this write: same dot, time and author bytes.
    func stamps(_ entry: FieldEntry) -> Bool {
        self == WriteStamp(entry)
    }

    static func < (lhs: WriteStamp, rhs: WriteStamp) -> Bool {
        if lhs.dot != rhs.dot { return lhs.dot < rhs.dot }
        if lhs.time != rhs.time { return lhs.time < rhs.time }
        return lhs.author.utf8Precedes(rhs.author)
    }
}
