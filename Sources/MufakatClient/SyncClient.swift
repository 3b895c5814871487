import Foundation
import MufakatCore
import MufakatStore
import MufakatWire
import NIOCore
import NIOPosix

/// Syncs one replica with its hub: push what was written here, then pull what others
/// wrote, in batches.
///
/// Each acknowledgement and each checkpoint is stored as it arrives — a pulled batch in the
/// same transaction as its records — so a cut connection or a killed process loses nothing
/// and the next sync carries on where this one stopped.
///
/// ```swift
/// let summary = try await SyncClient(store: store).sync { progress in … }
/// ```
public struct SyncClient: Sendable {
    public var store: ReplicaStore
    public var batchSize: Int
    /// How long to wait for any answer from the hub.
    public var timeout: TimeAmount
    public var clientName: String
    public var group: any EventLoopGroup
    /// Test hooks: called after each stored push acknowledgement and pulled batch; a hook
    /// that throws stops the sync there, as a killed process would.
    public var afterPushBatch: @Sendable (Int) throws -> Void = { _ in }
    public var afterPullBatch: @Sendable (Int) throws -> Void = { _ in }

    public init(
        store: ReplicaStore, batchSize: Int = WireProtocol.defaultBatchSize, timeout: TimeAmount = .seconds(60),
        clientName: String = "mufakat", group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.store = store
        self.batchSize = batchSize
        self.timeout = timeout
        self.clientName = clientName
        self.group = group
    }

    public func sync(progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncSummary {
        let started = ContinuousClock.now
        let metadata = try store.metadata()
        let (host, port) = try Self.parse(hub: metadata.hub)
        var summary = SyncSummary()
        summary.hub = metadata.hub
        progress(SyncProgress(phase: .connecting, pushed: 0, toPush: 0, pulled: 0, hubBacklog: 0))
        let counts = ByteCounts()
        let timeout = self.timeout
        let connection: NIOAsyncChannel<Message, Message>
        do {
            connection = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(10))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteCountingHandler(counts: counts))
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: timeout))
                        try channel.pipeline.syncOperations.addHandler(ReadTimeoutHandler())
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MessageDecoder()))
                        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MessageEncoder()))
                        // One answer may wait while a batch is stored (the next pull is sent
                        // before storing); a hub sending more than that is not read ahead.
                        return try NIOAsyncChannel<Message, Message>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 1)))
                    }
                }
        } catch {
            throw SyncError(.unreachable, "cannot reach the hub at \(metadata.hub): \(Self.describe(error)); your changes are safe here, sync again when online")
        }
        defer {
            summary.bytesSent = counts.sent
            summary.bytesReceived = counts.received
        }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var messages = inbound.makeAsyncIterator()
                func receive(_ expected: MessageType) async throws -> Message {
                    let message: Message?
                    do {
                        message = try await messages.next()
                    } catch let error as WireError {
                        throw SyncError(.protocolError, "the hub sent a malformed frame (\(error.code)): \(error.message)", code: error.code.rawValue)
                    } catch is ReadTimeoutHandler.Timeout {
                        throw SyncError(.connectionLost, "the hub did not answer within \(timeout.nanoseconds / 1_000_000_000) s; sync again to carry on")
                    } catch {
                        throw SyncError(.connectionLost, "the connection broke: \(Self.describe(error)); sync again to carry on")
                    }
                    guard let message else {
                        throw SyncError(.connectionLost, "the hub closed the connection; sync again to carry on")
                    }
                    if case .error(let error) = message { throw SyncError.fromHub(error) }
                    guard message.type == expected else {
                        throw SyncError(.protocolError, "expected \(expected.rawValue) from the hub, got \(message.type.rawValue)")
                    }
                    return message
                }

                try await outbound.write(.hello(Hello(
                    replica: metadata.replica.rawValue, token: metadata.token, client: "\(clientName) (\(metadata.name))")))
                guard case .welcome(let welcome) = try await receive(.welcome) else { return }
                try store.bind(hubID: welcome.hub)
                try store.raiseCounter(atLeast: welcome.counter)
                let limit = max(1, min(batchSize, welcome.limits.records))
                // About 1 MiB of state per push: the hub holds each session's batch in memory.
                let maxBytes = max(64 << 10, min(1 << 20, welcome.limits.inflatedBytes / 8))

                // Push: oldest local changes first, one acknowledged batch at a time.
                let toPush = try store.pendingCount()
                var state = SyncProgress(phase: .pushing, pushed: 0, toPush: toPush, pulled: 0, hubBacklog: welcome.seq)
                progress(state)
                var batches = 0
                while let batch = try store.pendingPush(limit: limit, maxBytes: maxBytes) {
                    try await outbound.write(.push(Push(through: batch.through), records: batch.records))
                    guard case .pushed(let pushed) = try await receive(.pushed) else { return }
                    guard pushed.through == batch.through else {
                        throw SyncError(.protocolError, "the hub acknowledged \(pushed.through) for a push through \(batch.through)")
                    }
                    try store.acknowledgePush(through: pushed.through)
                    summary.pushed += pushed.accepted
                    summary.unchanged += pushed.unchanged
                    summary.rejected += pushed.rejected
                    state.pushed += batch.records.count
                    progress(state)
                    batches += 1
                    try afterPushBatch(batches)
                }

                // Pull: everything after the checkpoint, each batch stored with its checkpoint.
                // The next pull goes out as soon as a batch arrives, so the hub prepares it
                // while this replica stores the one in hand.
                state.phase = .pulling
                progress(state)
                batches = 0
                var checkpoint = try store.metadata().checkpoint
                try await outbound.write(.pull(Pull(since: checkpoint, limit: limit)))
                while true {
                    guard case .changes(let changes, let records) = try await receive(.changes) else { return }
                    if changes.more {
                        guard changes.through > checkpoint else {
                            throw SyncError(.protocolError, "the hub says more changes wait but did not move the checkpoint past \(checkpoint)")
                        }
                        try await outbound.write(.pull(Pull(since: changes.through, limit: limit)))
                    }
                    let outcome = try store.applyPulled(records, through: changes.through)
                    checkpoint = changes.through
                    summary.pulled += records.count
                    summary.changed += outcome.changed
                    summary.newConflicts += outcome.newConflicts
                    state.pulled += records.count
                    progress(state)
                    batches += 1
                    try afterPullBatch(batches)
                    if !changes.more { break }
                }
                try await outbound.write(.bye)
                try store.recordSync(at: ReplicaStore.systemClock())
                state.phase = .done
                progress(state)
            }
        } catch let error as SyncError {
            throw error
        } catch let error as MufakatError {
            throw error
        } catch {
            throw SyncError(.connectionLost, "the connection broke: \(Self.describe(error)); sync again to carry on")
        }
        summary.duration = ContinuousClock.now - started
        summary.bytesSent = counts.sent
        summary.bytesReceived = counts.received
        return summary
    }

    /// `host:port` from the replica's settings.
    static func parse(hub: String) throws -> (String, Int) {
        guard let colon = hub.lastIndex(of: ":"), let port = Int(hub[hub.index(after: colon)...]), (1...65_535).contains(port) else {
            throw SyncError(.unreachable, "the hub address '\(hub)' is not HOST:PORT; fix it with 'mufakat init' in a new folder")
        }
        var host = String(hub[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused (is the hub running at that address?)"
            case ECONNRESET: return "the connection was reset"
            case ETIMEDOUT: return "the connection timed out"
            case EHOSTUNREACH, ENETUNREACH: return "no route to the hub (are you online?)"
            default: return String(cString: strerror(error.errnoCode))
            }
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return "no answer within 10 s"
            case .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed, .eof: return "the connection was closed"
            default: return "\(error)"
            }
        }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(first.error) }
            return "the hub's name could not be resolved"
        }
        return "\(error)"
    }
}

/// Turns an idle-read event into an error the sync loop can report.
final class ReadTimeoutHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    struct Timeout: Error {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? IdleStateHandler.IdleStateEvent, event == .read {
            context.fireErrorCaught(Timeout())
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
