import Logging
import MufakatStore
import MufakatWire
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The hub as a `Service`: listens for replicas and serves each connection in its own
/// child task until shut down.
///
/// Run it in a `ServiceGroup` that listens for SIGTERM and SIGINT: on graceful shutdown it
/// stops accepting connections, lets every session finish the message it is handling, answers
/// the next one with `shutting-down`, and returns when all sessions are closed.
///
/// ```swift
/// let server = HubServer(store: try HubStore.open(directory: "./mufakat-hub-data"),
///                        configuration: HubConfiguration(port: 7420), logger: logger)
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

    public func run() async throws {
        let limits = configuration.limits
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let counts = ByteCounts()
                    try channel.pipeline.syncOperations.addHandler(ByteCountingHandler(counts: counts))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MessageDecoder(limits: limits)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MessageEncoder()))
                    let connection = try NIOAsyncChannel<Message, Message>(wrappingChannelSynchronously: channel)
                    return (connection, counts)
                }
            }
        if let address = server.channel.localAddress {
            logger.info("listening", metadata: ["address": "\(address)", "data": "\(configuration.host):\(address.port ?? 0)"])
            if configuration.reseed {
                logger.warning("re-seed mode: replicas push every record they hold and may relay other replicas' writes; restart without --reseed once every replica has synced")
            }
            onListening(address)
        }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await (connection, counts) in inbound {
                        group.addTask {
                            await HubSession(
                                store: self.store, configuration: self.configuration, logger: self.logger,
                                connection: connection, counts: counts
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
