import Foundation
import MufakatClient
import MufakatCore
import MufakatHub
import MufakatStore
import MufakatTesting
import MufakatWire

/// A replica in memory that syncs with a test hub.
struct TestReplica {
    let store: ReplicaStore
    var batchSize = 1_000
    /// The newest protocol version the replica speaks (2 as clients before 0.6.0; below 5,
    /// a replica of 0.7 stays one).
    var protocolVersion = WireProtocol.namingVersion

    /// A replica of this release (the hub names its writes), or with `naming` false one made
    /// by 0.7, whose own counter names them, speaking `protocolVersion` at most.
    init(hub: TestHub, org: String = "iom", name: String = "Andi", naming: Bool = true) throws {
        store = try hub.replica(token: try hub.token(org: org, name: name), name: "\(name) (\(org.uppercased()))", naming: naming)
        if !naming { protocolVersion = WireProtocol.version }
    }

    init(store: ReplicaStore) {
        self.store = store
    }

    @discardableResult
    func sync(
        afterPushBatch: @escaping @Sendable (Int) throws -> Void = { _ in },
        afterPullBatch: @escaping @Sendable (Int) throws -> Void = { _ in }
    ) async throws -> SyncSummary {
        var client = SyncClient(store: store, batchSize: batchSize, timeout: .seconds(20))
        client.afterPushBatch = afterPushBatch
        client.afterPullBatch = afterPullBatch
        client.protocolVersion = protocolVersion
        return try await client.sync()
    }

    var digest: String { get throws { try store.digest() } }
}

/// Stands in for a process killed at a chosen point.
struct SimulatedCrash: Error {}

/// Brackets a test with a running hub: over TLS, or plain TCP when `insecure`.
func withHub<T>(
    insecure: Bool = false, configure: (inout MufakatHub.HubConfiguration) -> Void = { _ in }, _ body: (TestHub) async throws -> T
) async throws -> T {
    let hub = try await TestHub.start(insecure: insecure, configure: configure)
    do {
        let result = try await body(hub)
        await hub.stop()
        return result
    } catch {
        await hub.stop()
        throw error
    }
}
