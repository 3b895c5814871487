import MufakatSync

/// The first message of a session, client to hub: who is connecting and with what token.
public struct Hello: Hashable, Sendable, Codable {
    /// The protocol version the client speaks (``WireProtocol/version``).
    public var version: Int
    /// The client's replica id.
    public var replica: String
    /// The secret the hub operator issued to this person.
    public var token: String
    /// Free text for the hub's log, e.g. `mufakat 0.1 (Andi (IOM))`.
    public var client: String

    public init(version: Int = WireProtocol.version, replica: String, token: String, client: String) {
        self.version = version
        self.replica = replica
        self.token = token
        self.client = client
    }
}

/// The hub's answer to a good `hello`: who the hub is, how far its feed goes, and what it
/// remembers of this replica id — the facts a replica compares with its own to find out
/// whether it is behind itself (restored, copied) or the hub is behind it (rewound, rebuilt).
public struct Welcome: Hashable, Sendable, Codable {
    public var version: Int
    /// The hub's own replica id; a new one means a hub rebuilt from an empty folder.
    public var hub: String
    /// The hub's current sequence: the highest change number of its feed.
    public var seq: UInt64
    /// The highest counter of this replica id the hub has seen.
    public var counter: UInt64
    /// The `through` of the last push the hub acknowledged from this replica id (0: none).
    public var through: UInt64
    /// The id of that push ("" when none).
    public var push: String
    /// The highest `changes.through` the hub served this replica id.
    public var served: UInt64
    /// The last pushes the hub acknowledged from this replica id, oldest first (at most 32,
    /// the last being `push`). A copy that finds a push it did not make in `push` looks here
    /// for the last one it did. Absent from a hub that keeps no history: read as empty.
    public var recent: [PushMark]?
    /// The hub's software and version, e.g. `mufakat-hub 0.3.0`, for the client to show.
    /// Optional.
    public var software: String?
    /// Whether the hub runs in re-seed mode: replicas then push every record they hold,
    /// other replicas' writes included, to refill it.
    public var reseed: Bool
    /// The limits the hub enforces on what the client sends.
    public var limits: WireLimits
    /// The key (`SHA256:…`, PROTOCOL.md §12) the hub will present after its operator
    /// switches keys; a replica that checked the current key trusts this one too from now
    /// on. Optional: absent when no switch is planned.
    public var nextKey: String?
    /// The organisation of the hello's token (an `organizations` id), for the replica's
    /// offline checks of write rights (§6.10). Absent from hubs before 0.7.
    public var org: String?
    /// The token's role: `coordinator`, `member` or `observer`. Absent from hubs before 0.7.
    public var role: String?
    /// Protocol 5: every run of the hub this file remembers, oldest first (§13.2); the last
    /// is the one answering.
    public var incarnations: [IncarnationInfo]?
    /// Protocol 5: the highest counter the hub holds for each actor it knows — its runs,
    /// actors it took back by relay, and replica ids from before protocol 5. A replica
    /// whose records hold more relays them (§13.4).
    public var held: [String: UInt64]?

    public init(
        version: Int = WireProtocol.version, hub: String, seq: UInt64, counter: UInt64, through: UInt64 = 0,
        push: String = "", served: UInt64 = 0, recent: [PushMark]? = nil, software: String? = nil, reseed: Bool = false,
        limits: WireLimits, nextKey: String? = nil, org: String? = nil, role: String? = nil,
        incarnations: [IncarnationInfo]? = nil, held: [String: UInt64]? = nil
    ) {
        self.incarnations = incarnations
        self.held = held
        self.nextKey = nextKey
        self.org = org
        self.role = role
        self.recent = recent
        self.software = software
        self.version = version
        self.hub = hub
        self.seq = seq
        self.counter = counter
        self.through = through
        self.push = push
        self.served = served
        self.reseed = reseed
        self.limits = limits
    }
}

/// Sent before closing the connection because of ``code``.
public struct ErrorMessage: Hashable, Sendable, Codable {
    public var code: WireError.Code
    /// A sentence for the person: what was wrong and what is accepted.
    public var message: String

    public init(code: WireError.Code, message: String) {
        self.code = code
        self.message = message
    }

    public init(_ error: WireError) {
        self.init(code: error.code, message: error.message)
    }
}

/// Keepalive and round-trip check; `pong` echoes the nonce.
public struct Ping: Hashable, Sendable, Codable {
    public var nonce: UInt64
    public init(nonce: UInt64) { self.nonce = nonce }
}
