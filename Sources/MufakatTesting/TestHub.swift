import Foundation
import Logging
import MufakatCore
import MufakatHub
import MufakatTLS
import MufakatStore
import NIOCore
import ServiceLifecycle

/// A hub on a free port of 127.0.0.1 with its own temporary data folder, for tests.
///
/// ```swift
/// let hub = try await TestHub.start()
/// defer { Task { await hub.stop() } }
/// let token = try hub.store.createToken(org: "iom", name: "Andi").secret
/// ```
public final class TestHub: Sendable {
    public let store: HubStore
    public let port: Int
    public let directory: TemporaryDirectory
    /// The key replicas pin; nil for a plain-TCP hub.
    public let key: HubKey?
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(
        store: HubStore, port: Int, directory: TemporaryDirectory, key: HubKey?, group: ServiceGroup, task: Task<Void, any Error>
    ) {
        self.store = store
        self.key = key
        self.port = port
        self.directory = directory
        self.group = group
        self.task = task
    }

    public var address: String { "127.0.0.1:\(port)" }

    /// A TLS hub presenting `identity` (by default a key made in its folder), or plain TCP
    /// when `insecure`.
    /// `folder` serves the data of an earlier (stopped) hub, as a restart would.
    public static func start(
        insecure: Bool = false, identity given: HubIdentity? = nil, folder: TemporaryDirectory? = nil,
        configure: (inout HubConfiguration) -> Void = { _ in }
    ) async throws -> TestHub {
        let directory = try folder ?? TemporaryDirectory("mufakat-hub")
        let store = try HubStore.open(directory: directory.path)
        let identity = insecure ? nil : try given ?? HubIdentity.loadOrCreate(folder: directory.path).identity
        var configuration = HubConfiguration(
            host: "127.0.0.1", port: 0, transport: try identity.map { .tls(try $0.makeServerContext()) } ?? .plain)
        configure(&configuration)
        var logger = Logger(label: "mufakat.hub.test")
        logger.logLevel = ProcessInfo.processInfo.environment["MUFAKAT_TEST_LOG"] == nil ? .warning : .info
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = HubServer(store: store, configuration: configuration, logger: logger) { address in
            continuation.yield(address.port ?? 0)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return TestHub(store: store, port: port, directory: directory, key: identity?.key, group: group, task: task)
    }

    /// A fresh token's secret: a coordinator's unless told (tests of sync itself write
    /// every organisation's records).
    public func token(org: String = "iom", name: String = "Andi", role: Role = .coordinator) throws -> String {
        try store.createToken(org: org, name: name, role: role).secret
    }

    /// A replica in memory set up for this hub: its key pinned, or plain TCP.
    /// `naming` false: a replica as 0.7 made them (its own counter names its writes).
    public func replica(token: String, name: String = "Andi", naming: Bool = true) throws -> ReplicaStore {
        try ReplicaStore.inMemory(
            hub: address, token: token, name: name, hubKey: key?.description ?? "", insecure: key == nil, naming: naming)
    }

    /// Graceful shutdown, as on SIGTERM; waits until the server has stopped.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
