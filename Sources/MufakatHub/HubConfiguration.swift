import MufakatCore
import NIOSSL
import MufakatWire

/// How a hub listens and what it accepts.
public struct HubConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (tests); the bound address is reported through `onListening`.
    public var port: Int
    /// What a session accepts once its token is checked; before that, ``WireLimits/beforeHello``.
    public var limits: WireLimits
    /// A connection that has not said `hello` by then gets `hello-timeout`.
    public var helloTimeout: Duration
    /// A session silent for this long gets `idle-timeout`.
    public var idleTimeout: Duration
    /// Most records and bytes of state text per `changes` frame. Every open session may
    /// hold one batch in memory (decoded and encoded), so with a hundred replicas syncing
    /// at once the byte cap is what bounds the hub's memory.
    public var pullBatchLimit: Int
    public var pullBatchBytes: Int
    /// Most connections open at once; one more is answered with `too-many-connections` and
    /// closed. Each needs a file descriptor, so keep the open-file limit (`ulimit -n`) above it.
    public var maxConnections: Int
    /// How hellos with a wrong token slow down further hellos from the same address.
    public var helloThrottle: HelloThrottle.Policy
    /// Re-seed mode: replicas may relay other replicas' writes, to refill a hub rebuilt from
    /// an empty folder or restored from an old copy. Off unless the operator turns it on.
    public var reseed: Bool
    /// TLS with the hub's identity, or plain TCP. `mufakat-hub serve` uses TLS unless told
    /// `--insecure`; a library user says which.
    public var transport: HubListenerTransport
    /// The key the operator will switch to, announced in every `welcome` so that replicas
    /// trust it before the switch (PROTOCOL.md §12).
    public var announcedKey: HubKey?
    /// How many sessions may hold a large pushed frame inflated and decoded at once; the
    /// others wait with theirs compressed (``WorkGate``).
    public var concurrentPushes = 4
    /// The protocol versions sessions may speak (PROTOCOL.md §9): both during an upgrade.
    public var protocolVersions: Set<Int> = WireProtocol.hubVersions

    public init(
        host: String = "0.0.0.0", port: Int = 7420, limits: WireLimits = .default,
        helloTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(120),
        pullBatchLimit: Int = 1_000, pullBatchBytes: Int = 1 << 20,
        maxConnections: Int = 1_024, helloThrottle: HelloThrottle.Policy = .init(), reseed: Bool = false,
        transport: HubListenerTransport, announcedKey: HubKey? = nil
    ) {
        self.transport = transport
        self.announcedKey = announcedKey
        self.reseed = reseed
        self.host = host
        self.port = port
        self.limits = limits
        self.helloTimeout = helloTimeout
        self.idleTimeout = idleTimeout
        self.pullBatchLimit = pullBatchLimit
        self.pullBatchBytes = pullBatchBytes
        self.maxConnections = maxConnections
        self.helloThrottle = helloThrottle
    }
}

/// How the hub's connections are carried.
public enum HubListenerTransport: Sendable {
    /// TLS 1.2 or later with this context (see `HubIdentity.makeServerContext()`); a plain
    /// connection is answered `tls-required` in plain and closed.
    case tls(NIOSSLContext)
    /// Plain TCP (`--insecure`); a TLS client hello is logged and the connection closed.
    case plain
}

extension HubListenerTransport {
    public var isTLS: Bool {
        if case .tls = self { return true }
        return false
    }
}
