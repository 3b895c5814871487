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
