import Logging
import MufakatStore
import MufakatWire
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The hub as a `Service`: listens for replicas and serves each connection in its own
/// child task until shut down.
///
/// Run it in a `ServiceGroup` that listens for SIGTERM and SIGINT: on graceful shutdown it
/// stops accepting connections, lets every session finish the message it is handling, answers
/// the next one with `shutting-down`, and returns when all sessions are closed.
///
/// What an anonymous peer can cost it is bounded: frames of 64 KiB until the token is
/// checked (``SessionLimits``), one frame waiting per connection, at most
/// ``HubConfiguration/maxConnections`` connections, a growing wait after wrong tokens
/// (``HelloThrottle``), and a paused accept loop when file descriptors run out.
///
/// Connections are TLS with the hub's identity (or plain TCP when configured so): see
/// ``HubListenerTransport`` and `TransportGate`, which answers a client speaking the other one.
///
/// ```swift
/// let identity = try HubIdentity.loadOrCreate(folder: "./mufakat-hub-data").identity
/// let server = HubServer(store: try HubStore.open(directory: "./mufakat-hub-data"),
///                        configuration: HubConfiguration(port: 7420, transport: .tls(try identity.makeServerContext())),
///                        logger: logger)
/// try await ServiceGroup(configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint],
///                                             logger: logger)).run()
/// ```
public final class HubServer: Service, Sendable {
    let store: HubStore
    let configuration: HubConfiguration
    let logger: Logger
    let group: any EventLoopGroup
    let onListening: @Sendable (SocketAddress) -> Void

    public init(
        store: HubStore, configuration: HubConfiguration, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.group = group
        self.onListening = onListening
    }

    /// What the accept loop gets for each connection.
    enum Accepted: Sendable {
        case admitted(NIOAsyncChannel<WireFrame, Message>, ByteCounts, SessionLimits, peer: String)
        /// Over the connection limit: already answered and closing.
        case refused
    }

    public func run() async throws {
        // Every start is a new run of the hub, naming writes under an actor of its own
        // (PROTOCOL.md §13.2): a hub restored from any backup never issues a dot twice.
        let incarnation = try store.startIncarnation().actor
        let limits = configuration.limits
        let connections = ConnectionLimiter(maximum: configuration.maxConnections)
        let helloThrottle = HelloThrottle.Shared(policy: configuration.helloThrottle)
        let workGate = WorkGate(permits: configuration.concurrentPushes)
        let logger = self.logger
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptPauseHandler(logger: logger))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { [transport = configuration.transport] channel in
                channel.eventLoop.makeCompletedFuture { () -> Accepted in
                    // Bytes are counted as they cross the socket; below TLS, so is the
                    // answer to a client that speaks the other transport.
                    let counts = ByteCounts()
                    try channel.pipeline.syncOperations.addHandler(ByteCountingHandler(counts: counts))
                    switch transport {
                    case .tls(let context):
                        try channel.pipeline.syncOperations.addHandler(TransportGate(expectsTLS: true, logger: logger))
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    case .plain:
                        try channel.pipeline.syncOperations.addHandler(TransportGate(expectsTLS: false, logger: logger))
                    }
                    switch connections.admit() {
                    case .refused(let first):
                        if first {
                            logger.warning("connection limit reached: answering new connections with too-many-connections", metadata: [
                                "maxConnections": "\(connections.maximum)"])
                        }
                        try channel.pipeline.syncOperations.addHandler(RefuseConnectionHandler(WireError(
                            .tooManyConnections,
                            "the hub is serving its limit of \(connections.maximum) connections; sync again in a minute")))
                        return .refused
                    case .admitted(let refusedBefore):
                        if refusedBefore > 0 {
                            logger.notice("admitting connections again", metadata: ["refused": "\(refusedBefore)"])
                        }
                    }
                    channel.closeFuture.whenComplete { _ in connections.release() }
                    let sessionLimits = SessionLimits(afterHello: limits)
                    // Frames are only cut here, on the event loop, with the small limits until the
                    // token is checked; the session task inflates and parses them.
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WireFrameDecoder(limits: sessionLimits)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MessageEncoder()))
                    // Stop reading from the socket while one frame waits for the session, so a peer
                    // cannot make the hub hold a queue of pushes: what waits is that frame, any
                    // others cut from the same socket read (at most 64 KiB by NIO's allocator), and
                    // the start of the next frame (at most the frame limit). The frame being parsed
                    // is the session's own, bounded by the inflated-size limit.
                    let connection = try NIOAsyncChannel<WireFrame, Message>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 1)))
                    // Taken now: NIO forgets a channel's addresses once it is closed.
                    let peer = channel.remoteAddress?.ipAddress ?? "unknown"
                    return .admitted(connection, counts, sessionLimits, peer: peer)
                }
            }
        if let address = server.channel.localAddress {
            logger.info("listening", metadata: [
                "address": "\(configuration.host):\(address.port ?? 0)",
                "transport": "\(configuration.transport.isTLS ? "tls" : "plain (--insecure)")",
            ])
            if configuration.reseed {
                logger.warning("re-seed mode: replicas push every record they hold and may relay other replicas' writes; restart without --reseed once every replica has synced")
            }
            onListening(address)
        }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await accepted in inbound {
                        guard case .admitted(let connection, let counts, let limits, let peer) = accepted else { continue }
                        group.addTask {
                            await HubSession(
                                store: self.store, configuration: self.configuration, incarnation: incarnation, logger: self.logger,
                                connection: connection, counts: counts, limits: limits, helloThrottle: helloThrottle, workGate: workGate,
                                peerAddress: peer
                            ).run()
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new connections; open sessions finish their current message")
            server.channel.close(promise: nil)
        }
        logger.info("stopped")
    }
}
