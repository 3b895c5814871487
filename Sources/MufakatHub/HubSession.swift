import Logging
import MufakatCore
import MufakatStore
import MufakatSync
import MufakatWire
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// One connection from one replica: authenticate, then serve pushes and pulls until the
/// replica says `bye`, breaks the protocol, falls silent, or the hub shuts down.
struct HubSession {
    let store: HubStore
    let configuration: HubConfiguration
    /// The actor this hub run names writes under (protocol 5).
    let incarnation: ReplicaID
    let logger: Logger
    /// Frames, not messages: they are inflated and parsed in ``serve``, off the event loop.
    let connection: NIOAsyncChannel<WireFrame, Message>
    let counts: ByteCounts
    /// Small frames until the token is checked (``authenticate(_:)``), the configured limits after.
    let limits: SessionLimits
    let helloThrottle: HelloThrottle.Shared
    /// Shared by every session: how many hold a large push in memory at once.
    let workGate: WorkGate
    /// The peer's IP address (no port), as accepted: what failed hellos are counted by.
    let peerAddress: String

    /// What the summary log line reports.
    struct Tally {
        var replica = "-"
        var name = "-"
        var token = "-"
        var org = "-"
        var client = "-"
        /// The protocol version of the hello ("-" before one).
        var version = "-"
        var pushed = 0
        var unchanged = 0
        var pulled = 0
        var rejected = 0
        var relayed = 0
        var end = "closed"
    }

    /// When the session last heard from its peer, and whether it said hello yet.
    final class Activity: Sendable {
        private let state = Mutex<(last: ContinuousClock.Instant, greeted: Bool)>((.now, false))
        /// Until `hello` succeeds the deadline counts from the connection's start: frames
        /// before it (a health check's `ping`) do not extend it.
        func touch(greeted: Bool = false) {
            state.withLock {
                if greeted { $0.greeted = true }
                if $0.greeted { $0.last = .now }
            }
        }
        var snapshot: (last: ContinuousClock.Instant, greeted: Bool) { state.withLock { $0 } }
    }

    func run() async {
        let started = ContinuousClock.now
        var tally = Tally()
        let activity = Activity()
        do {
            try await connection.executeThenClose { inbound, outbound in
                await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await watchdog(activity, outbound) }
                    await serve(inbound, outbound, activity, &tally)
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
        } catch {
            if tally.end == "closed" { tally.end = "connection error: \(error)" }
        }
        let duration = ContinuousClock.now - started
        // A connection that never said hello and simply closed (a health check's ping, a
        // port probe) is not a session worth a line at the default level.
        let level: Logger.Level = tally.replica == "-" && tally.end == "peer closed" ? .debug : .info
        logger.log(level: level, "session", metadata: [
            "peer": "\(peerAddress)",
            "replica": "\(tally.replica)", "token": "\(tally.token)", "org": "\(tally.org)", "name": "\(tally.name)",
            "client": "\(tally.client)", "version": "\(tally.version)", "pushed": "\(tally.pushed)",
            "unchanged": "\(tally.unchanged)", "pulled": "\(tally.pulled)", "rejected": "\(tally.rejected)", "relayed": "\(tally.relayed)",
            "bytesIn": "\(counts.received)", "bytesOut": "\(counts.sent)",
            "duration": "\(duration.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))", "end": "\(tally.end)",
        ])
    }

    /// Closes a connection that says nothing: no `hello` within the hello timeout, or no
    /// message within the idle timeout.
    private func watchdog(_ activity: Activity, _ outbound: NIOAsyncChannelOutboundWriter<Message>) async throws {
        while true {
            let (last, greeted) = activity.snapshot
            let limit = greeted ? configuration.idleTimeout : configuration.helloTimeout
            if ContinuousClock.now >= last + limit {
                let error = greeted
                    ? WireError(.idleTimeout, "nothing received for \(limit); closing the connection")
                    : WireError(.helloTimeout, "no hello within \(limit) of connecting; closing the connection")
                try? await outbound.write(.error(ErrorMessage(error)))
                connection.channel.close(promise: nil)
                return
            }
            // Wake at least once a second: a hello turns the hello limit into the idle
            // limit, which may be shorter than what is left of the first.
            try await Task.sleep(until: min(last + limit, ContinuousClock.now + .seconds(1)), clock: .continuous)
        }
    }

    private func serve(
        _ inbound: NIOAsyncChannelInboundStream<WireFrame>, _ outbound: NIOAsyncChannelOutboundWriter<Message>,
        _ activity: Activity, _ tally: inout Tally
    ) async {
        var machine = HubSessionStateMachine(supportedVersions: configuration.protocolVersions, pullLimit: configuration.pullBatchLimit, recordsLimit: configuration.limits.records)
        do {
            for try await frame in inbound.cancelOnGracefulShutdown() {
                // A large frame (a push) is inflated and decoded only with a permit, held
                // until it is stored: memory bounded by batch, not by session count.
                let permit = frame.body.readableBytes > WorkGate.largeFrameBytes
                if permit {
                    activity.touch()
                    await workGate.acquire()
                }
                defer { if permit { Task { await workGate.release() } } }
                let message = try limits.message(from: frame, form: machine.recordForm)
                activity.touch()
                if case .active(let peer) = machine.state, try await !store.isActive(tokenID: peer.tokenID) {
                    try await fail(WireError(.unauthorized, "token \(peer.tokenID) was revoked; ask the hub operator for a new one"), outbound, &tally)
                    return
                }
                switch machine.received(message) {
                case .authenticate(let hello, let replica):
                    // Logged for refused sessions too: who claimed to be whom.
                    tally.replica = replica.rawValue
                    tally.client = String(hello.client.prefix(200))
                    tally.version = String(hello.version)
                    guard let token = try await authenticate(hello) else {
                        try await fail(WireError(.unauthorized, "the token is not known to this hub; check it, or ask the hub operator for a token"), outbound, &tally)
                        return
                    }
                    if token.revoked != nil {
                        tally.token = token.id
                        tally.org = token.org
                        tally.name = token.name
                        try await fail(WireError(.unauthorized, "token \(token.id) (\(token.name), \(token.org)) was revoked by the hub operator; ask them for a new one and give it with 'mufakat token set'"), outbound, &tally)
                        return
                    }
                    let ledger: LedgerEntry
                    do {
                        ledger = try await store.bind(replica: replica.rawValue, tokenID: token.id, client: hello.client)
                    } catch let error as MufakatError {
                        try await fail(WireError(.replicaTaken, error.message), outbound, &tally)
                        return
                    }
                    machine.authenticated(.init(replica: replica, tokenID: token.id, name: token.name, version: hello.version))
                    tally.name = token.name
                    tally.org = token.org
                    tally.token = token.id
                    activity.touch(greeted: true)
                    let identity = try await store.identity()
                    if hello.version >= WireProtocol.namingVersion {
                        // Protocol 5 keeps no ledger of replica ids: the hub's runs and what it
                        // holds of every actor tell a replica all it needs (§13.2).
                        let view = try await store.namingView()
                        try await outbound.write(.welcome(Welcome(
                            version: hello.version, hub: identity.hubID, seq: identity.sequence, counter: 0,
                            software: "mufakat-hub \(MufakatVersion.current)", reseed: configuration.reseed, limits: configuration.limits,
                            nextKey: configuration.announcedKey?.description, org: token.org, role: token.role.rawValue,
                            incarnations: view.incarnations.map { IncarnationInfo(actor: $0.actor.rawValue, from: $0.fromSequence) },
                            held: view.held)))
                    } else {
                        try await outbound.write(.welcome(Welcome(
                            version: hello.version, hub: identity.hubID, seq: identity.sequence, counter: ledger.counter, through: ledger.through,
                            push: ledger.push, served: ledger.served, recent: ledger.recent,
                            software: "mufakat-hub \(MufakatVersion.current)", reseed: configuration.reseed, limits: configuration.limits,
                            nextKey: configuration.announcedKey?.description, org: token.org, role: token.role.rawValue)))
                    }
                case .applyPush(let push, let records, let peer):
                    switch try await store.applyPush(records, header: push, from: peer.replica, rules: PushRules(relay: configuration.reseed)) {
                    case .failure(let refusal):
                        if case .diverged = refusal {
                            try await fail(WireError(.diverged, refusal.message), outbound, &tally)
                        } else {
                            try await fail(WireError(.badField, "push: \(refusal.message)"), outbound, &tally)
                        }
                        return
                    case .success(let result):
                        tally.pushed += result.accepted
                        tally.unchanged += result.unchanged
                        tally.rejected += result.rejected.count
                        if configuration.reseed {
                            tally.relayed += records.count
                        }
                        for rejection in result.rejected.prefix(5) {
                            logger.notice("refused record", metadata: [
                                "replica": "\(peer.replica)", "collection": "\(rejection.collection.prefix(40))",
                                "id": "\(rejection.id.prefix(RecordIDs.maxLength))", "code": "\(rejection.rejection.code.rawValue)",
                                "fields": "\(rejection.rejection.fields.prefix(8).joined(separator: ","))",
                                "reason": "\(rejection.rejection.reason)",
                            ])
                        }
                        try await outbound.write(.pushed(Pushed(
                            through: push.through, id: push.id, accepted: result.accepted, unchanged: result.unchanged,
                            rejected: result.rejected.map {
                                .init(
                                    collection: String($0.collection.prefix(40)), id: String($0.id.prefix(RecordIDs.maxLength)),
                                    code: $0.rejection.code.rawValue, fields: $0.rejection.fields.prefix(8).map { String($0.prefix(64)) },
                                    reason: $0.rejection.reason, dots: $0.rejection.dots.map(\.description))
                            },
                            rejectedCount: result.rejected.count, seq: result.sequence)))
                    }
                case .nameWrites(let batch, let writes, let peer):
                    let results = try await store.nameWrites(writes, incarnation: incarnation, replica: peer.replica.rawValue, push: batch.id)
                    var lines: [NamedLine] = []
                    lines.reserveCapacity(results.count)
                    for (pushed, result) in zip(writes, results) {
                        switch result {
                        case .named(let name):
                            tally.pushed += name.earlier ? 0 : 1
                            tally.unchanged += name.earlier ? 1 : 0
                            lines.append(NamedLine(
                                write: pushed.write.id.rawValue, dot: WireDot(name.dot), time: name.time, author: name.author,
                                over: name.over.map(WireDot.init), earlier: name.earlier, exact: name.exact, voucher: name.voucher))
                        case .refused(let rejection):
                            tally.rejected += 1
                            if tally.rejected <= 5 {
                                logger.notice("refused write", metadata: [
                                    "replica": "\(peer.replica)", "collection": "\(pushed.collection.prefix(40))",
                                    "id": "\(pushed.id.prefix(RecordIDs.maxLength))", "code": "\(rejection.code.rawValue)",
                                    "reason": "\(rejection.reason)",
                                ])
                            }
                            lines.append(NamedLine(
                                write: pushed.write.id.rawValue,
                                refused: Self.rejection(collection: pushed.collection, id: pushed.id, rejection)))
                        }
                    }
                    try await outbound.write(.named(Named(id: batch.id, seq: try await store.identity().sequence), lines: lines))
                case .relay(let relay, let records, let peer):
                    let result = try await store.relay(records, from: peer.replica, reseed: configuration.reseed)
                    tally.relayed += result.merged
                    tally.rejected += result.rejected.count
                    try await outbound.write(.relayed(Relayed(
                        id: relay.id, merged: result.merged, unchanged: result.unchanged,
                        rejected: result.rejected.map { Self.rejection(collection: $0.collection, id: $0.id, $0.rejection) },
                        seq: result.sequence)))
                case .servePull(let since, let limit, let peer, let skip):
                    let batch = try await store.changes(
                        since: since, limit: limit, maxBytes: configuration.pullBatchBytes, for: peer.replica, form: peer.recordForm,
                        vouchers: peer.version >= WireProtocol.namingVersion, skip: Set(skip))
                    tally.pulled += batch.lines.count
                    try await outbound.write(.changesLines(Changes(through: batch.through, more: batch.more), lines: batch.lines))
                case .serveHistory(let request, let peer):
                    // The token's role now, like a pull's: a record kept in-house by another
                    // organisation is not found.
                    let visibility = try await Visibility(store.token(id: peer.tokenID).writer)
                    let entries = try await store.history(
                        collection: request.collection, id: request.id, for: visibility, limit: request.limit)
                    try await outbound.write(.recordHistory(
                        RecordHistory(found: entries != nil, omitted: entries?.omitted ?? 0), entries: entries?.entries ?? []))
                case .pong(let ping):
                    try await outbound.write(.pong(ping))
                case .close:
                    tally.end = "bye"
                    return
                case .fail(let error):
                    try await fail(error, outbound, &tally)
                    return
                }
                activity.touch()
            }
            if Task.isShuttingDownGracefully {
                try await fail(WireError(.shuttingDown, "the hub is shutting down; sync again in a moment"), outbound, &tally)
            } else if tally.end == "closed" {
                tally.end = "peer closed"
            }
        } catch let error as WireError {
            try? await fail(error, outbound, &tally)
        } catch let error as NIOSSLError {
            // The client refused this hub's certificate (a replica pinned to another key
            // says "bad certificate"), or spoke no TLS after its first byte: nothing to answer.
            tally.end = "TLS failed: \(error)"
        } catch {
            tally.end = "failed: \(error)"
            try? await outbound.write(.error(ErrorMessage(code: .internalError, message: "the hub failed to handle the message; nothing of it was applied")))
        }
    }

    /// A refusal as a reply lists it: location cut to size, fields and reason, no values.
    static func rejection(collection: String, id: String, _ rejection: RecordRejection) -> Pushed.Rejection {
        Pushed.Rejection(
            collection: String(collection.prefix(40)), id: String(id.prefix(RecordIDs.maxLength)), code: rejection.code.rawValue,
            fields: rejection.fields.prefix(8).map { String($0.prefix(64)) }, reason: rejection.reason, dots: rejection.dots.map(\.description))
    }

    private func fail(_ error: WireError, _ outbound: NIOAsyncChannelOutboundWriter<Message>, _ tally: inout Tally) async throws {
        tally.end = error.code.rawValue
        try await outbound.write(.error(ErrorMessage(error)))
    }
}
