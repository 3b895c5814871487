import MufakatCore

/// What a replica knows of its own sync progress — the replica's half of the ledger.
public struct ReplicaProgress: Hashable, Sendable {
    public var replica: ReplicaID
    /// The counter of its last write operation.
    public var counter: UInt64
    /// The local sequence through which the hub acknowledged its pushes.
    public var pushedThrough: UInt64
    /// The id of the last push the hub acknowledged; empty before the first.
    public var lastPush: String
    /// A push sent and not yet acknowledged, stored before it is sent: if the hub's ledger
    /// shows it, only the acknowledgement was lost.
    public var inflight: InflightPush?
    /// The hub sequence through which changes were pulled and stored.
    public var checkpoint: UInt64
    /// The hub this replica last synced with; empty before the first sync.
    public var hubID: String
    /// Ids of earlier acknowledged pushes, oldest first (at most ``historyLength``): a hub
    /// whose last push from this id is one of them was restored from an older copy.
    public var pushHistory: [String] = []
    public static let historyLength = 1_000

    /// The hub refused a push of this replica as `corruption`: one of its dots names another
    /// write there — a copy of this folder used the same id.
    public var dotReused: Bool = false

    public struct InflightPush: Hashable, Sendable {
        public var id: String
        public var through: UInt64
        public init(id: String, through: UInt64) {
            self.id = id
            self.through = through
        }
    }

    public init(
        replica: ReplicaID, counter: UInt64 = 0, pushedThrough: UInt64 = 0, lastPush: String = "",
        inflight: InflightPush? = nil, checkpoint: UInt64 = 0, hubID: String = "", dotReused: Bool = false,
        pushHistory: [String] = []
    ) {
        self.dotReused = dotReused
        self.pushHistory = pushHistory
        self.replica = replica
        self.counter = counter
        self.pushedThrough = pushedThrough
        self.lastPush = lastPush
        self.inflight = inflight
        self.checkpoint = checkpoint
        self.hubID = hubID
    }
}

/// What `welcome` told the replica.
public struct HubView: Hashable, Sendable {
    public var hubID: String
    /// The hub's sequence now.
    public var sequence: UInt64
    /// What the hub remembers of this replica id.
    public var ledger: LedgerEntry

    public init(hubID: String, sequence: UInt64, ledger: LedgerEntry) {
        self.hubID = hubID
        self.sequence = sequence
        self.ledger = ledger
    }
}

/// How a replica's own progress compares with what the hub remembers of it.
public enum WelcomeVerdict: Hashable, Sendable {
    /// Both agree: push and pull as usual.
    case consistent
    /// The hub acknowledged the push this replica had in flight, and the answer was lost:
    /// adopt it.
    case acknowledgementLost(ReplicaProgress.InflightPush)
    /// The hub is behind this replica (restored from a snapshot, or rebuilt empty): pull
    /// from 0 and push again everything written here.
    case hubBehind(HubBehindReason)
    /// This copy of the replica is behind its own id (restored from a backup, rolled back,
    /// or a copied folder whose twin synced first): take a new replica id, re-stamp the
    /// writes the hub has not acknowledged, pull everything.
    case replicaBehind(ReplicaBehindReason)
}

public enum HubBehindReason: Hashable, Sendable {
    /// A different hub id: a hub rebuilt from an empty folder.
    case otherHub(was: String)
    /// The hub no longer holds pushes it acknowledged.
    case lostPushes(hubThrough: UInt64, acknowledged: UInt64)
    /// This replica's checkpoint is beyond what the hub served it or holds.
    case lostChanges(hubServed: UInt64, checkpoint: UInt64)

    public var message: String {
        switch self {
        case .otherHub(let was):
            return "the hub is not the one this replica synced with (was \(was)): it was rebuilt"
        case .lostPushes(let hubThrough, let acknowledged):
            return "the hub acknowledged this replica's changes through \(acknowledged) but now remembers only \(hubThrough): it was restored from an older copy"
        case .lostChanges(let hubServed, let checkpoint):
            return "this replica pulled changes through \(checkpoint) but the hub remembers serving only \(hubServed): it was restored from an older copy"
        }
    }
}

public enum ReplicaBehindReason: Hashable, Sendable {
    /// The hub saw writes of this id with higher counters than this copy holds.
    case counterBehind(hub: UInt64, local: UInt64)
    /// The hub's last push from this id is not one this copy made or saw acknowledged.
    case otherPushes(hubThrough: UInt64, acknowledged: UInt64)
    /// This id has no counter left (2^63 − 1 used, or a counter raised by hand).
    case countersExhausted(UInt64)
    /// The hub holds a write of this id that differs from this copy's under the same dot.
    case reusedDot

    public var message: String {
        switch self {
        case .counterBehind(let hub, let local):
            return "the hub holds writes of this replica id up to \(hub), this copy only up to \(local)"
        case .otherPushes(let hubThrough, let acknowledged):
            return "the hub holds pushes of this replica id through \(hubThrough) that this copy did not make (it has \(acknowledged))"
        case .countersExhausted(let counter):
            return "this replica id has used its counters (\(counter); at most \(Counters.maxCounter))"
        case .reusedDot:
            return "the hub holds other writes under some of this replica's: another copy of this folder used the same id"
        }
    }
}

extension ReplicaProgress {
    /// The history after `push` was acknowledged (the one it replaces as last joins it).
    public func history(after push: String) -> [String] {
        guard !lastPush.isEmpty, lastPush != push else { return pushHistory }
        return Array((pushHistory + [lastPush]).suffix(Self.historyLength))
    }

    /// The history kept when the hub is found behind: the last push and the one in flight
    /// (the hub may have applied it before the answer was lost) join it, so a hub restored
    /// later from a snapshot holding either is recognised as behind, not as a twin's.
    public func historyKeepingInflight(after push: String) -> [String] {
        var history = self.history(after: push)
        if let inflight, !inflight.id.isEmpty, inflight.id != push, !history.contains(inflight.id) {
            history = Array((history + [inflight.id]).suffix(Self.historyLength))
        }
        return history
    }

    /// Whether `push` is one this copy made: its last acknowledged push, one before it, or
    /// the one in flight.
    func madeOrSaw(_ push: String) -> Bool {
        push == lastPush || pushHistory.contains(push) || inflight?.id == push
    }

    /// How far the hub's history of this id is this copy's own: the `through` of the latest
    /// push in the hub's recent history that this copy made; 0 when none is (a twin's or a
    /// rebuilt hub's history, or one longer than the hub keeps).
    ///
    /// A copy that takes a new id trusts the hub's record of its writes only up to there:
    /// above it, a write of its old id that the hub's context claims may be a twin's write
    /// under the same dot, so one it no longer finds there is written again, not taken as
    /// overwritten.
    public func sharedThrough(_ ledger: LedgerEntry) -> UInt64 {
        if !ledger.push.isEmpty, ledger.push == lastPush, ledger.recent.isEmpty { return min(pushedThrough, ledger.through) }
        return ledger.recent.last { madeOrSaw($0.push) }?.through ?? 0
    }

    /// Compares this replica's progress with the hub's ledger for it. Pure: the caller
    /// persists whatever the verdict asks for.
    public func evaluate(_ hub: HubView) -> WelcomeVerdict {
        let ledger = hub.ledger
        if counter >= Counters.maxCounter {
            return .replicaBehind(.countersExhausted(counter))
        }
        if dotReused {
            return .replicaBehind(.reusedDot)
        }
        if !hubID.isEmpty, hub.hubID != hubID {
            // A rebuilt hub knows this id only from pushes since the rebuild: from this copy,
            // from a twin copy of its folder (then this copy is behind), or from relayers
            // holding its writes (a counter above this copy's: this copy is a restored one).
            if ledger.counter > counter {
                return .replicaBehind(.counterBehind(hub: ledger.counter, local: counter))
            }
            if !ledger.push.isEmpty, !madeOrSaw(ledger.push) {
                return .replicaBehind(.otherPushes(hubThrough: ledger.through, acknowledged: pushedThrough))
            }
            return .hubBehind(.otherHub(was: hubID))
        }
        if ledger.counter > counter {
            return .replicaBehind(.counterBehind(hub: ledger.counter, local: counter))
        }
        // Push ids decide; `through` only tells how far: after a lost acknowledgement this
        // replica adopts the push but sends its records again, so its own `through` lags.
        if ledger.push != lastPush {
            if let inflight, inflight.id == ledger.push, inflight.through == ledger.through, !ledger.push.isEmpty {
                return .acknowledgementLost(inflight)
            }
            // A hub that remembers an earlier push of this copy, or none, was rewound; one
            // that remembers a push this copy never made saw a twin of it.
            if ledger.push.isEmpty ? !lastPush.isEmpty : pushHistory.contains(ledger.push) {
                return .hubBehind(.lostPushes(hubThrough: ledger.through, acknowledged: pushedThrough))
            }
            return .replicaBehind(.otherPushes(hubThrough: ledger.through, acknowledged: pushedThrough))
        }
        if checkpoint > ledger.served || checkpoint > hub.sequence {
            return .hubBehind(.lostChanges(hubServed: min(ledger.served, hub.sequence), checkpoint: checkpoint))
        }
        return .consistent
    }
}
