/// The name of one write operation: the replica that made it and that replica's counter
/// at the time.
///
/// Each replica increments its counter once per local write operation, so a dot is unique
/// across the whole system. A `put` of several fields is one operation and one dot; every
/// field it wrote carries the same dot.
///
/// Dots order by replica, then counter, which is the order entries take in canonical JSON.
public struct Dot: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var replica: ReplicaID
    public var counter: UInt64

    public init(replica: ReplicaID, counter: UInt64) {
        self.replica = replica
        self.counter = counter
    }

    public static func < (lhs: Dot, rhs: Dot) -> Bool {
        if lhs.replica != rhs.replica { return lhs.replica < rhs.replica }
        return lhs.counter < rhs.counter
    }

    /// `replica:counter`, the form used in messages.
    public var description: String { "\(replica):\(counter)" }
}
