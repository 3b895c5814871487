import MufakatCore

/// What the hub remembers of one replica id: the sync facts `welcome` reports back, so a
/// replica can tell whether it is behind itself (restored, copied) or the hub is behind it
/// (rewound, rebuilt).
///
/// It lives in the same database as the records, so a hub restored from a snapshot also
/// rewinds its ledger — which is exactly what lets every replica that synced after the
/// snapshot notice.
public struct LedgerEntry: Hashable, Sendable, Codable {
    /// The highest counter of this replica id the hub has seen in any accepted state.
    public var counter: UInt64
    /// The `through` of the last push acknowledged from this replica id.
    public var through: UInt64
    /// The id of that push; empty when none was.
    public var push: String
    /// The highest `changes.through` served to this replica id: its checkpoint can never be
    /// beyond it.
    public var served: UInt64
    /// The last acknowledged pushes of this replica id, oldest first, at most
    /// ``recentLength``, the last being `push`: a copy that finds a push it did not make at
    /// the end finds here the last one it did, and so how far the hub's history of the id is
    /// its own.
    public var recent: [PushMark]
    public static let recentLength = 32

    public init(counter: UInt64 = 0, through: UInt64 = 0, push: String = "", served: UInt64 = 0, recent: [PushMark] = []) {
        self.counter = counter
        self.through = through
        self.push = push
        self.served = served
        self.recent = recent
    }

    public static let empty = LedgerEntry()
}

/// One acknowledged push in a ledger's recent history.
public struct PushMark: Hashable, Sendable, Codable {
    /// The push id.
    public var push: String
    /// Its `through`: the pusher's local sequence through which its pushes were complete.
    public var through: UInt64

    public init(push: String, through: UInt64) {
        self.push = push
        self.through = through
    }
}

/// The header of a push — on the wire (`Push` in MufakatWire is this type) and in the ledger.
/// The record lines follow it, in local-sequence order.
public struct PushHeader: Hashable, Sendable, Codable {
    /// The client's local sequence through which its pushes are complete with this batch.
    /// The hub echoes it in `pushed`; the client then never needs to send anything up to it
    /// again.
    public var through: UInt64
    /// This push's id: 1–64 characters from `a-z0-9-` (Mufakat sends 16 hex digits).
    public var id: String
    /// The id of the last push of this replica id the client saw acknowledged ("" before
    /// its first). The hub refuses a push that does not follow its own last one
    /// (`diverged`): two copies of one replica can never both extend its history.
    public var after: String
    /// The client's counter: no record of the batch may claim writes of the client's own id
    /// above it.
    public var counter: UInt64

    public init(through: UInt64, id: String, after: String, counter: UInt64) {
        self.through = through
        self.id = id
        self.after = after
        self.counter = counter
    }
}

/// Why the hub refuses a whole push.
public enum PushRefusal: Error, Hashable, Sendable {
    /// Another copy of this replica id pushed since this one last synced.
    case diverged(expected: String, got: String)
    /// The header claims a counter no replica can have.
    case counterOutOfRange(UInt64)
    /// The push id is not 1–64 characters of a-z, 0-9, '-'.
    case badID(String)

    public var message: String {
        switch self {
        case .diverged(let expected, let got):
            return "push follows '\(got)' but the hub's last push from this replica id is '\(expected)': another copy of this replica synced in the meantime; sync again and this copy will take a new replica id, keeping its changes"
        case .counterOutOfRange(let counter):
            return "push counter \(counter) is above \(Counters.maxCounter), the most a replica id may use"
        case .badID(let id):
            return "push id '\(id.prefix(64))' is not valid: use 1 to 64 characters from a-z, 0-9 and '-'"
        }
    }
}

extension LedgerEntry {
    /// Checks a push against what the hub last acknowledged from its replica id: a push
    /// must follow the hub's last acknowledged push (compare-and-set), so of two copies of a
    /// folder only the first to push extends the id's history.
    /// - Returns: why the push is refused, or `nil` when it may be applied.
    public func refusal(of header: PushHeader) -> PushRefusal? {
        guard ReplicaID.isValid(header.id) else { return .badID(header.id) }
        guard header.counter <= Counters.maxCounter else { return .counterOutOfRange(header.counter) }
        guard header.after == push else { return .diverged(expected: push, got: header.after) }
        return nil
    }

    /// The entry after acknowledging `header`.
    public func acknowledging(_ header: PushHeader) -> LedgerEntry {
        var next = self
        next.through = max(through, header.through)
        next.push = header.id
        next.counter = max(counter, header.counter)
        next.recent = Array((recent + [PushMark(push: header.id, through: header.through)]).suffix(Self.recentLength))
        return next
    }
}
