/// Client to hub: a batch of record states the client wrote, in local-sequence order.
/// The record lines follow the header.
public struct Push: Hashable, Sendable, Codable {
    /// The client's local sequence of the last record in this batch. The hub echoes it in
    /// `pushed`; the client then never needs to send anything up to it again.
    public var through: UInt64

    public init(through: UInt64) { self.through = through }
}

/// Hub to client: the batch was merged and stored (one transaction), except the records
/// listed as rejected.
public struct Pushed: Hashable, Sendable, Codable {
    /// A record the hub refused, and why; the rest of the batch was applied.
    public struct Rejection: Hashable, Sendable, Codable {
        public var collection: String
        public var id: String
        public var code: String
        public var message: String

        public init(collection: String, id: String, code: String, message: String) {
            self.collection = collection
            self.id = id
            self.code = code
            self.message = message
        }
    }

    /// Echo of ``Push/through``: everything up to it is safely on the hub.
    public var through: UInt64
    /// Records whose state changed on the hub.
    public var accepted: Int
    /// Records the hub already held exactly (a resend after a cut connection).
    public var unchanged: Int
    public var rejected: [Rejection]
    /// The hub sequence after this batch.
    public var seq: UInt64

    public init(through: UInt64, accepted: Int, unchanged: Int, rejected: [Rejection], seq: UInt64) {
        self.through = through
        self.accepted = accepted
        self.unchanged = unchanged
        self.rejected = rejected
        self.seq = seq
    }
}

/// Client to hub: send the changes after hub sequence ``since``.
public struct Pull: Hashable, Sendable, Codable {
    /// The client's checkpoint: the `through` of the last `changes` it stored (0 at first).
    public var since: UInt64
    /// Most records the client wants in one `changes` frame.
    public var limit: Int

    public init(since: UInt64, limit: Int) {
        self.since = since
        self.limit = limit
    }
}

/// Hub to client: a batch of record states, in hub-sequence order; record lines follow.
public struct Changes: Hashable, Sendable, Codable {
    /// The new checkpoint: the client stores it in the same transaction as the records.
    public var through: UInt64
    /// Whether more changes wait after ``through``; the client pulls again if so.
    public var more: Bool

    public init(through: UInt64, more: Bool) {
        self.through = through
        self.more = more
    }
}
