/// One candidate value of a field: what one write operation put there.
///
/// A field normally holds one entry. It holds several when writes that did not see each
/// other set it: that is a conflict, and every entry stays until a person resolves it.
public struct FieldEntry: Hashable, Sendable {
    /// The write operation that produced this value.
    public var dot: Dot
    public var value: FieldValue
    /// Wall-clock milliseconds since 1970 of the write, raised by the time rule (see
    /// ``RecordState/write(_:dot:now:author:)``). It orders the display only; it never
    /// decides what is kept.
    public var time: Int64
    /// Who wrote it, as the replica's user named themselves (`"Andi (IOM)"`).
    public var author: String

    public init(dot: Dot, value: FieldValue, time: Int64, author: String) {
        self.dot = dot
        self.value = value
        self.time = time
        self.author = author
    }

    /// Equal entries are the same bytes: the author is compared as UTF-8, like the value.
    public static func == (lhs: FieldEntry, rhs: FieldEntry) -> Bool {
        lhs.dot == rhs.dot && lhs.time == rhs.time && lhs.value == rhs.value && lhs.author.utf8Equal(rhs.author)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(dot)
        hasher.combine(time)
        hasher.combine(value)
        author.hashUTF8(into: &hasher)
    }

    /// A fixed order of entries' write metadata (time, then author bytes), for picking one of
    /// several the same way on every replica.
    public static func stampPrecedes(_ lhs: FieldEntry, _ rhs: FieldEntry) -> Bool {
        lhs.time != rhs.time ? lhs.time < rhs.time : lhs.author.utf8Precedes(rhs.author)
    }

    /// Whether `other` carries this entry's write metadata: same dot, time and author bytes.
    public func sameWrite(as other: FieldEntry) -> Bool {
        dot == other.dot && time == other.time && author.utf8Equal(other.author)
    }

    /// Whether this entry shows ahead of `other` when a field has several:
    /// the greater `(time, replica)` wins the display; counters break the last tie.
    func displays(over other: FieldEntry) -> Bool {
        Self.displays(time, dot, over: other.time, other.dot)
    }

    static func displays(_ time: Int64, _ dot: Dot, over otherTime: Int64, _ otherDot: Dot) -> Bool {
        if time != otherTime { return time > otherTime }
        if dot.replica != otherDot.replica { return otherDot.replica < dot.replica }
        return dot.counter > otherDot.counter
    }
}
