import MufakatCore
import MufakatSync

/// Client to hub: a batch of record states the client wrote, in local-sequence order; the
/// record lines follow the header. The header is the sync rules' own ``PushHeader``.
public typealias Push = PushHeader

/// Hub to client: the batch was merged and stored (one transaction, on disk), except the
/// records listed as rejected.
public struct Pushed: Hashable, Sendable, Codable {
    /// A record the hub refused: a code and the fields concerned, never the values, so the
    /// reply stays small whatever was refused.
    public struct Rejection: Hashable, Sendable, Codable {
        public var collection: String
        public var id: String
        /// One of PROTOCOL §7.1: `invalid`, `counter-beyond`, `forged-dot`, `corruption`,
        /// `reused-dot`, `removes-entry`, `bad-id` or `missing-field`.
        public var code: String
        /// The fields concerned, when the rule names some.
        public var fields: [String]
        /// The rule that failed, in words that quote no value (at most ``maxReason``
        /// characters), for the person. Optional: hubs before 0.3.1 send none.
        public var reason: String?
        /// For `reused-dot`: the dots concerned, as `replica:counter`, at most
        /// ``RecordRejection/maxDots``; absent otherwise (and from hubs before 0.5).
        public var dots: [String]?

        public static let maxReason = 300

        public init(collection: String, id: String, code: String, fields: [String], reason: String? = nil, dots: [String]? = nil) {
            self.collection = collection
            self.id = id
            self.code = code
            self.fields = fields
            self.reason = reason.map { String($0.prefix(Self.maxReason)) }
            self.dots = dots.flatMap { $0.isEmpty ? nil : Array($0.prefix(RecordRejection.maxDots)) }
        }

        /// ``dots`` read back; a malformed one is left out (it only narrows what is written
        /// again).
        public var parsedDots: [Dot] {
            (dots ?? []).compactMap { text in
                guard let colon = text.lastIndex(of: ":"), let counter = UInt64(text[text.index(after: colon)...]) else { return nil }
                guard let replica = try? ReplicaID(String(text[..<colon])) else { return nil }
                return Dot(replica: replica, counter: counter)
            }
        }
    }

    /// Most rejections listed in one `pushed`; ``rejectedCount`` counts them all.
    public static let maxListed = 1_000

    /// Echo of ``Push/through``: everything up to it is safely on the hub.
    public var through: UInt64
    /// Echo of ``Push/id``.
    public var id: String
    /// Records whose state changed on the hub.
    public var accepted: Int
    /// Records the hub already held exactly (a resend after a cut connection).
    public var unchanged: Int
    /// Refused records, at most ``maxListed`` of them.
    public var rejected: [Rejection]
    /// How many records were refused in all.
    public var rejectedCount: Int
    /// The hub sequence after this batch.
    public var seq: UInt64

    public init(through: UInt64, id: String, accepted: Int, unchanged: Int, rejected: [Rejection], rejectedCount: Int? = nil, seq: UInt64) {
        self.through = through
        self.id = id
        self.accepted = accepted
        self.unchanged = unchanged
        self.rejected = Array(rejected.prefix(Self.maxListed))
        self.rejectedCount = rejectedCount ?? rejected.count
        self.seq = seq
    }
}

/// Client to hub: send the changes after hub sequence ``since``.
public struct Pull: Hashable, Sendable, Codable {
    /// The client's checkpoint: the `through` of the last `changes` it stored (0 at first).
    public var since: UInt64
    /// Most records the client wants in one `changes` frame.
    public var limit: Int
    /// Protocol 5: ids of this session's `write` batches whose records the client holds
    /// exactly as the hub does (every write of them answered `exact`); the feed leaves
    /// those records out while their last change is that batch's. At most ``maxSkip``.
    public var skip: [String]?

    public static let maxSkip = 1_000

    public init(since: UInt64, limit: Int, skip: [String]? = nil) {
        self.since = since
        self.limit = limit
        self.skip = skip
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
