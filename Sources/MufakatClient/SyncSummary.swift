import MufakatStore
import MufakatWire

/// What a sync did.
public struct SyncSummary: Sendable, Hashable {
    /// Records the hub stored from this replica.
    public var pushed = 0
    /// Records the hub already had exactly.
    public var unchanged = 0
    /// Records the hub refused, with why.
    public var rejected: [Pushed.Rejection] = []
    /// Records received from the hub.
    public var pulled = 0
    /// Received records that changed something here.
    public var changed = 0
    /// Records that became conflicted during this sync.
    public var newConflicts = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    public var duration: Duration = .zero
    public var hub = ""
    /// The hub's software and version, as its `welcome` said ("" from a hub that does not say).
    public var hubSoftware = ""
    /// The protocol version this sync spoke.
    public var protocolVersion = WireProtocol.version
    /// Set when the hub speaks an older protocol version only and the sync fell back to it.
    public var olderHub: String?
    /// The replica id this replica synced as (new when it took one in this sync).
    public var replica = ""
    /// Set when this replica found itself behind its own id and took a new one: the id it
    /// left and why, in one sentence.
    public var newIdentity: String?
    /// Set when this sync learned the hub's next key or found the hub switched to it: what
    /// changed, in one sentence.
    public var hubKeyChange: String?
    /// Writes made again under the new id.
    public var restamped = 0
    /// Set when the hub was found behind this replica (rewound or rebuilt): why.
    public var hubBehind: String?
    /// The token's organisation or role changed since the last sync (or was learned): a
    /// sentence for the person.
    public var access: String?
    /// Records sent to a hub in re-seed mode.
    public var relayed = 0
    /// Records the hub has refused and this replica keeps sending, after this sync.
    public var waiting: [PendingRejection] = []

    public init() {}
}

/// Progress of a running sync, for a progress bar.
public struct SyncProgress: Sendable, Hashable {
    public enum Phase: Sendable, Hashable { case connecting, pushing, pulling, done }
    public var phase: Phase
    /// Records sent so far, of `toPush` known at the start.
    public var pushed: Int
    public var toPush: Int
    /// Records received so far; the total is unknown until the hub says there is no more.
    public var pulled: Int
    /// Changes waiting on the hub when the session started (an upper bound for pulling).
    public var hubBacklog: UInt64
}
