import Foundation
import MufakatCore
import MufakatStore
import MufakatSync
import MufakatWire
import NIOCore
import NIOPosix
import NIOSSL
import MufakatTLS

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
    /// The newest protocol version to speak. A replica whose writes the hub names speaks 5
    /// (``WireProtocol/namingVersion``); a replica of 0.7 says hello with at most 4 and, to a
    /// hub that does not speak it (a hub before 0.6.0 speaks 2 only), asks again in the
    /// next older of ``WireProtocol/versions``. Below 5, a replica of 0.7 stays one.
    public var protocolVersion = WireProtocol.namingVersion

    public init(
        store: ReplicaStore, batchSize: Int = WireProtocol.defaultBatchSize, timeout: TimeAmount = .seconds(60),
        clientName: String = "mufakat \(MufakatVersion.current)", group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.store = store
        self.batchSize = batchSize
        self.timeout = timeout
        self.clientName = clientName
        self.group = group
    }

    public func sync(progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncSummary {
        if try store.namesWrites() {
            guard protocolVersion >= WireProtocol.namingVersion else {
                throw SyncError(
                    .refused,
                    "this replica's writes are named by the hub (protocol \(WireProtocol.namingVersion)); it cannot speak protocol \(protocolVersion). Nothing was sent")
            }
            do {
                return try await namedSession(progress: progress, previous: nil)
            } catch let error as SyncError where error.code == WireError.Code.replicaTaken.rawValue {
                // Another token holds this replica id here (a hub rebuilt empty, where the
                // first to use an id keeps it): never fight over it. The id only names the
                // session; the writes keep their write ids.
                let ids = try await store.takeNewSessionID()
                var summary = SyncSummary()
                summary.newIdentity = "the hub gives replica \(ids.old) to another token; this replica now syncs as \(ids.new), its changes kept as they were"
                return try await namedSession(progress: progress, previous: summary)
            } catch let error as SyncError where error.code == WireError.Code.versionUnsupported.rawValue {
                throw SyncError(
                    .refused,
                    "the hub at \(try store.metadata().hub) does not speak protocol \(WireProtocol.namingVersion) (mufakat-hub before 0.8.0), in which the hub names every write; this replica needs it. Ask the hub's operator to upgrade the hub; nothing was sent",
                    code: error.code)
            }
        }
        // A replica of 0.7 syncs as 0.7 did until nothing is left to send; then, with a hub
        // that names writes, it switches for good and syncs again in protocol 5.
        let legacy = try await legacySync(progress: progress)
        guard protocolVersion >= WireProtocol.namingVersion, Self.namesWrites(software: legacy.hubSoftware),
            try await store.legacyClean()
        else { return legacy }
        try await store.startNaming()
        return try await namedSession(progress: progress, previous: legacy)
    }

    /// Whether a hub's `welcome.software` (`mufakat-hub 0.8.0`) is a release that names writes.
    static func namesWrites(software: String) -> Bool {
        guard software.hasPrefix("mufakat-hub ") else { return false }
        let numbers = software.dropFirst("mufakat-hub ".count).split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        guard numbers.count == 2 else { return false }
        return numbers[0] > 0 || numbers[1] >= 8
    }

    /// A sync of a replica of 0.7 (its own counter names its writes), in protocol 4 or older.
    func legacySync(progress: @escaping @Sendable (SyncProgress) -> Void) async throws -> SyncSummary {
        // A replica that takes a new id ends its session — a session speaks for the id it
        // said hello with — and the sync goes on in a new session under the new id.
        var version = min(protocolVersion, WireProtocol.version)
        var olderHub: String?
        func session(previous: SyncSummary?) async throws -> (summary: SyncSummary, reconnect: Bool) {
            while true {
                do {
                    var result = try await self.session(progress: progress, previous: previous, version: version)
                    result.summary.olderHub = olderHub
                    return result
                } catch let error as SyncError where error.code == WireError.Code.versionUnsupported.rawValue {
                    // The hub refused the hello, so nothing was sent: ask again in the next older
                    // version (2 is what every hub since 0.3 speaks), and say so.
                    guard let older = WireProtocol.versions.filter({ $0 < version }).max() else {
                        throw SyncError(.refused, "\(error.message); this mufakat speaks protocol versions \(WireProtocol.versions.sorted().map(String.init).joined(separator: ", ")). Nothing was sent", code: error.code)
                    }
                    version = older
                    olderHub = older >= 3
                        ? "the hub speaks protocol version \(older) at most (mufakat-hub before 0.7.0); this sync used it. 'mufakat history' needs the hub upgraded; ask its operator"
                        : "the hub speaks protocol version 2 only (mufakat-hub before 0.6.0); this sync used it, which sends about three times the bytes. Ask the hub's operator to upgrade the hub"
                }
            }
        }
        var result = try await session(previous: nil)
        for _ in 0..<2 where result.reconnect {
            result = try await session(previous: result.summary)
        }
        return result.summary
    }

    private func session(
        progress: @escaping @Sendable (SyncProgress) -> Void, previous: SyncSummary?, version: Int
    ) async throws -> (summary: SyncSummary, reconnect: Bool) {
        let started = ContinuousClock.now
        let metadata = try await store.loadMetadata()
        let (host, port) = try Self.parse(hub: metadata.hub)
        var summary = SyncSummary()
        summary.hub = metadata.hub
        summary.protocolVersion = version
        summary.newIdentity = previous?.newIdentity
        summary.hubKeyChange = previous?.hubKeyChange
        summary.hubBehind = previous?.hubBehind
        summary.restamped = previous?.restamped ?? 0
        summary.pushed = previous?.pushed ?? 0
        summary.unchanged = previous?.unchanged ?? 0
        summary.rejected = previous?.rejected ?? []
        var reconnect = false
        progress(SyncProgress(phase: .connecting, pushed: 0, toPush: 0, pulled: 0, hubBacklog: 0))
        let counts = ByteCounts()
        let timeout = self.timeout
        let transport = try Self.transport(for: metadata)
        let check = HubKeyCheck(transport: transport, host: host)
        let connection: NIOAsyncChannel<Message, Message>
        do {
            connection = try await Self.connect(
                host: host, port: port, transport: transport, check: check, group: group, timeout: timeout, counts: counts,
                form: RecordForm(protocolVersion: version))
        } catch let failure as HandshakeFailure {
            throw Self.describeHandshake(failure, check: check, hub: metadata.hub, timeout: timeout)
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
                    try await Self.receive(&messages, expected, timeout: timeout, hub: metadata.hub)
                }

                try await outbound.write(.hello(Hello(
                    version: version, replica: metadata.replica.rawValue, token: metadata.token, client: "\(clientName) (\(metadata.name))")))
                let welcome: Welcome
                do {
                    guard case .welcome(let answer) = try await receive(.welcome) else { return }
                    guard answer.version == version else {
                        throw SyncError(.protocolError, "the hub answered hello version \(version) with welcome version \(answer.version); a hub speaks the client's version or refuses it (PROTOCOL.md §9)")
                    }
                    welcome = answer
                    summary.hubSoftware = answer.software ?? ""
                } catch let error as SyncError where error.code == WireError.Code.replicaTaken.rawValue && previous == nil {
                    // Another token holds this replica id here (a hub rebuilt empty, where the
                    // first to use an id keeps it): never fight over it, take a new one.
                    let start = try await store.takeNewIdentity()
                    summary.newIdentity = "the hub gives replica \(start.previousReplica?.rawValue ?? "?") to another token; this replica now syncs as \(start.replica), and its \(start.journaled) record(s) with changes are written again under that id"
                    reconnect = true
                    return
                }
                if case .pinned = transport, let presented = check.presented {
                    let announced = welcome.nextKey.flatMap { try? HubKey(parsing: $0) }?.description ?? ""
                    switch try await store.noteHubKeys(presented: presented.description, announced: announced) {
                    case .learned(let next):
                        summary.hubKeyChange = "the hub announced the key it will switch to, \(next); this replica trusts it from now on"
                    case .switched(let key):
                        summary.hubKeyChange = "the hub switched to the key it announced, \(key); this replica trusts that key only from now on"
                    case .none:
                        break
                    }
                }
                let start = try await store.beginSync(HubView(
                    hubID: welcome.hub, sequence: welcome.seq,
                    ledger: LedgerEntry(
                        counter: welcome.counter, through: welcome.through, push: welcome.push, served: welcome.served,
                        recent: welcome.recent ?? [])))
                summary.replica = start.replica.rawValue
                if let org = welcome.org, let role = welcome.role.flatMap(Role.init(rawValue:)) {
                    summary.access = try await store.noteAccess(Writer(org: org, role: role))
                }
                switch start.verdict {
                case .replicaBehind(let reason):
                    summary.newIdentity = "this copy of replica \(start.previousReplica?.rawValue ?? "?") is behind its own id (\(reason.message)); it now syncs as replica \(start.replica), and its \(start.journaled) record(s) with unsynced changes are written again under that id"
                    try await outbound.write(.bye)
                    reconnect = true
                    return
                case .hubBehind(let reason):
                    summary.hubBehind = reason.message + "; this replica pulls everything again and pushes again everything written here"
                case .consistent, .acknowledgementLost:
                    break
                }
                let limit = max(1, min(batchSize, welcome.limits.records, Pushed.maxListed))
                // About 1 MiB of state per push: the hub holds each session's batch in memory.
                let maxBytes = max(64 << 10, min(1 << 20, welcome.limits.inflatedBytes / 8))
                var state = SyncProgress(phase: .pushing, pushed: 0, toPush: 0, pulled: 0, hubBacklog: welcome.seq)
                var checkpoint = try await store.loadMetadata().checkpoint

                // Pull: everything after the checkpoint, each batch stored with its checkpoint.
                // The next pull goes out as soon as a batch arrives, so the hub prepares it
                // while this replica stores the one in hand.
                var pullBatches = 0
                func pullAll() async throws {
                    state.phase = .pulling
                    progress(state)
                    try await outbound.write(.pull(Pull(since: checkpoint, limit: limit)))
                    while true {
                        guard case .changes(let changes, let records) = try await receive(.changes) else { return }
                        if changes.more {
                            guard changes.through > checkpoint else {
                                throw SyncError(.protocolError, "the hub says more changes wait but did not move the checkpoint past \(checkpoint)")
                            }
                            try await outbound.write(.pull(Pull(since: changes.through, limit: limit)))
                        }
                        let outcome = try await store.applyPulled(records, through: changes.through)
                        if outcome.newIdentity {
                            summary.newIdentity = "the hub holds another write under one of this replica's writes (another copy of this folder used the same replica id); this copy now syncs as a new replica id and writes its changes again under it"
                            reconnect = true
                            return
                        }
                        checkpoint = changes.through
                        summary.pulled += records.count
                        summary.changed += outcome.changed
                        summary.newConflicts += outcome.newConflicts
                        state.pulled += records.count
                        progress(state)
                        pullBatches += 1
                        try afterPullBatch(pullBatches)
                        if !changes.more { break }
                    }
                }

                // A new id first pulls everything, then writes its journal again: a write the
                // hub already holds is then recognised, not written twice.
                if try await store.hasJournal() {
                    try await pullAll()
                    if reconnect {
                        try await outbound.write(.bye)
                        return
                    }
                    summary.restamped += try await store.replayJournal().count
                }

                // Push: local changes oldest first, then records to send again, then — for a
                // hub in re-seed mode — every record; one acknowledged batch at a time.
                var pushBatches = 0
                func pushAll() async throws {
                    state.phase = .pushing
                    state.toPush = try await store.countPending()
                    progress(state)
                    let resendKeys = try await store.resendKeys()
                    var resendOffset = 0
                    while true {
                        let batch: PushBatch?
                        if let pending = try await store.nextPendingPush(limit: limit, maxBytes: maxBytes) {
                            batch = pending
                        } else if resendOffset < resendKeys.count {
                            let keys = resendKeys[resendOffset..<min(resendKeys.count, resendOffset + limit)]
                            resendOffset += keys.count
                            guard let resend = try await store.resendPush(keys) else { continue }
                            batch = resend
                        } else if welcome.reseed {
                            batch = try await store.nextRelayPush(hubID: welcome.hub, limit: limit, maxBytes: maxBytes)
                        } else {
                            batch = nil
                        }
                        guard let batch else { break }
                        let header = batch.header
                        try await outbound.write(.push(header, records: batch.records))
                        guard case .pushed(let pushed) = try await receive(.pushed) else { return }
                        guard pushed.through == header.through, pushed.id == header.id else {
                            throw SyncError(.protocolError, "the hub acknowledged push \(pushed.id) through \(pushed.through) for push \(header.id) through \(header.through)")
                        }
                        try await store.acknowledgePush(
                            batch, through: pushed.through,
                            rejected: pushed.rejected.map { ($0.collection, $0.id, $0.code, $0.fields, $0.reason ?? "") },
                            rejectedCount: pushed.rejectedCount, hubID: welcome.hub,
                            reusedDots: Self.reusedDots(pushed.rejected))
                        summary.pushed += pushed.accepted
                        summary.unchanged += pushed.unchanged
                        summary.rejected += pushed.rejected
                        if case .relay = batch.kind { summary.relayed += batch.records.count }
                        state.pushed += batch.records.count
                        progress(state)
                        pushBatches += 1
                        try afterPushBatch(pushBatches)
                    }
                }

                try await pushAll()
                try await pullAll()
                // Other replicas' writes this replica held under dots the hub knows as other
                // writes (a copied folder somewhere): written again under this id, and sent.
                if !reconnect, try await store.hasJournal() {
                    summary.restamped += try await store.replayJournal().count
                    try await pushAll()
                    try await pullAll()
                }
                try await outbound.write(.bye)
                if reconnect { return }
                try await store.recordSync(at: ReplicaStore.systemClock())
                summary.waiting = try await store.loadRejections()
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
        summary.duration = ContinuousClock.now - started + (previous?.duration ?? .zero)
        summary.bytesSent = counts.sent + (previous?.bytesSent ?? 0)
        summary.bytesReceived = counts.received + (previous?.bytesReceived ?? 0)
        return (summary, reconnect)
    }

    /// A framed connection to the hub: messages in and out, reads timing out after
    /// `timeout`, at most one answer read ahead. Over TLS it returns once the handshake is
    /// done and `check` accepted the hub's key, so nothing is written to a hub it refused.
    static func connect(
        host: String, port: Int, transport: HubTransport, check: HubKeyCheck, group: any EventLoopGroup,
        timeout: TimeAmount, counts: ByteCounts, form: RecordForm = WireProtocol.recordForm
    ) async throws -> NIOAsyncChannel<Message, Message> {
        let (connection, handshake) = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteCountingHandler(counts: counts))
                    try pipeline.addHandler(IdleStateHandler(readTimeout: timeout))
                    try pipeline.addHandler(ReadTimeoutHandler())
                    let handshake = try ClientTLS.addHandlers(to: channel, host: host, transport: transport, check: check)
                    try pipeline.addHandler(ByteToMessageHandler(MessageDecoder(form: form)))
                    try pipeline.addHandler(MessageToByteHandler(MessageEncoder(form: form)))
                    // One answer may wait while a batch is stored (the next pull is sent
                    // before storing); a hub sending more than that is not read ahead.
                    let connection = try NIOAsyncChannel<Message, Message>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 1)))
                    return (connection, handshake)
                }
            }
        do {
            try await handshake.get()
        } catch {
            try? await connection.executeThenClose { _, _ in }
            throw HandshakeFailure(underlying: error)
        }
        return connection
    }

    /// The TLS handshake failed; ``describeHandshake(_:check:hub:timeout:)`` says why.
    struct HandshakeFailure: Error {
        var underlying: any Error
    }

    /// What went wrong in the TLS handshake, for a person: a refused key, certificate or
    /// name first (nothing was sent), then a hub that does not speak TLS.
    static func describeHandshake(_ failure: HandshakeFailure, check: HubKeyCheck, hub: String, timeout: TimeAmount) -> SyncError {
        if let refusal = check.refusal {
            let message: String
            switch refusal {
            case .otherKey(let presented, let pinned):
                message = "the hub at \(hub) presented the key \(presented), not the key this replica trusts (\(pinned)); "
                    + "nothing was sent. If the hub's operator changed its key, ask them for the new 'mufakat init' line "
                    + "and run 'mufakat hub set \(hub) --hub-key SHA256:…' with the key it names. If they did not, "
                    + "someone may be intercepting this network: do not sync from it, and tell the operator"
            case .expired(let date):
                message = "the hub at \(hub) presented a certificate that expired on \(Self.day(date)); nothing was sent. Its operator must renew it (a renewal for the same key changes nothing for replicas)"
            case .notYetValid(let date):
                message = "the hub at \(hub) presented a certificate valid only from \(Self.day(date)); nothing was sent. Check this computer's date and time (it says \(Self.day(Date())))"
            case .wrongHost(let dialled, let names):
                message = "the hub's certificate is for \(names.joined(separator: ", ")), not \(dialled); nothing was sent. Sync with one of those names ('mufakat hub set NAME:PORT'), or ask the operator for a certificate that names \(dialled)"
            case .unreadable(let why):
                message = "\(why); nothing was sent"
            }
            return SyncError(.untrustedHub, message)
        }
        // No advice to turn TLS off: anyone on the path can make a handshake fail.
        let plainHub = "the hub at \(hub) does not speak TLS (it may run with --insecure, or be an older version); nothing was sent. Ask its operator. Someone on the network can cause this too: do not turn off TLS on this replica because of this message"
        switch failure.underlying {
        case is ReadTimeoutHandler.Timeout:
            return SyncError(.connectionLost, "the hub at \(hub) accepted the connection but did not finish the TLS handshake within \(timeout.nanoseconds / 1_000_000_000) s; sync again to carry on")
        case is HandshakeWaiter.ClosedDuringHandshake, NIOSSLError.uncleanShutdown:
            return SyncError(.connectionLost, "the connection closed during the TLS handshake; nothing was sent. Sync again; if it keeps happening, ask the hub's operator whether it runs without TLS (--insecure). Someone on the network can cause this too: do not turn off TLS on this replica because of this message")
        case NIOSSLError.handshakeFailed(let error):
            return SyncError(.protocolError, "the TLS handshake failed (\(Self.reasons(error))); \(plainHub)")
        default:
            return SyncError(.connectionLost, "the connection broke during the TLS handshake: \(describe(failure.underlying)); sync again to carry on")
        }
    }

    /// BoringSSL's reason codes (`WRONG_VERSION_NUMBER`), without its source paths.
    static func reasons(_ error: BoringSSLError) -> String {
        let text = "\(error)"
        let codes = text.matches(of: /[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+/).map { String($0.output) }
        var seen = Set<String>()
        let unique = codes.filter { seen.insert($0).inserted }
        return unique.isEmpty ? "no reason given" : unique.joined(separator: ", ")
    }

    static func day(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }

    /// Asks the hub at `hub` (`HOST:PORT`) whether it answers: a `ping` before any `hello`,
    /// no token needed. Returns the round trip and, over TLS, the key the hub presented
    /// (`.probe` accepts any; `.pinned` refuses another). Throws ``SyncError`` when it does
    /// not answer.
    public static func ping(
        hub: String, transport: HubTransport = .probe, timeout: TimeAmount = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> (roundTrip: Duration, key: HubKey?) {
        let (host, port) = try parse(hub: hub)
        let connection: NIOAsyncChannel<Message, Message>
        let check = HubKeyCheck(transport: transport, host: host)
        do {
            connection = try await connect(
                host: host, port: port, transport: transport, check: check, group: group, timeout: timeout, counts: ByteCounts())
        } catch let failure as HandshakeFailure {
            throw describeHandshake(failure, check: check, hub: hub, timeout: timeout)
        } catch {
            throw SyncError(.unreachable, "cannot reach the hub at \(hub): \(describe(error))")
        }
        let started = ContinuousClock.now
        let nonce = UInt64.random(in: 1...UInt64.max)
        return try await connection.executeThenClose { inbound, outbound in
            try await outbound.write(.ping(Ping(nonce: nonce)))
            var messages = inbound.makeAsyncIterator()
            let answer: Message?
            do {
                answer = try await messages.next()
            } catch is ReadTimeoutHandler.Timeout {
                throw SyncError(.connectionLost, "the hub at \(hub) accepted the connection but did not answer within \(timeout.nanoseconds / 1_000_000_000) s")
            } catch is WireError {
                throw SyncError(.protocolError, "what answers at \(hub) does not speak the Mufakat protocol: is it a Mufakat hub, and the right port?")
            } catch {
                throw SyncError(.connectionLost, "the hub at \(hub) did not answer: \(describe(error))")
            }
            switch answer {
            case .pong(let pong) where pong.nonce == nonce:
                return (ContinuousClock.now - started, check.presented)
            case .error(let error):
                throw SyncError.fromHub(error, hub: hub)
            case let other:
                throw SyncError(.protocolError, "the hub at \(hub) answered a ping with \(other.map { $0.type.rawValue } ?? "nothing")")
            }
        }
    }

    /// What a failed read from the hub means for a person: a malformed frame, no answer in
    /// time, or a broken connection; `advice` ends the sentence.
    static func receiveFailure(_ error: any Error, timeout: TimeAmount, advice: String) -> SyncError {
        switch error {
        case let error as WireError:
            return SyncError(.protocolError, "the hub sent a malformed frame (\(error.code)): \(error.message)", code: error.code.rawValue)
        case is ReadTimeoutHandler.Timeout:
            return SyncError(.connectionLost, "the hub did not answer within \(timeout.nanoseconds / 1_000_000_000) s\(advice)")
        default:
            return SyncError(.connectionLost, "the connection broke: \(describe(error))\(advice)")
        }
    }

    /// How this replica reaches its hub, from its settings.
    public static func transport(for metadata: ReplicaMetadata) throws -> HubTransport {
        if metadata.insecure { return .plain }
        guard !metadata.hubKey.isEmpty else {
            throw SyncError(
                .untrustedHub,
                "this replica has no hub key to check the hub with, and sends nothing without one. Ask the hub's "
                    + "operator for the key ('mufakat-hub status' shows it; the 'mufakat init' line of 'mufakat-hub token create' "
                    + "carries it) and run 'mufakat hub set \(metadata.hub) --hub-key SHA256:…'; for a hub meant to run "
                    + "without TLS, 'mufakat hub set \(metadata.hub) --insecure'")
        }
        guard let key = try? HubKey(parsing: metadata.hubKey) else {
            throw SyncError(.untrustedHub, "the hub key this replica keeps ('\(metadata.hubKey.prefix(60))') is damaged; set it again with 'mufakat hub set \(metadata.hub) --hub-key SHA256:…'")
        }
        return .pinned(key: key, next: try? HubKey(parsing: metadata.hubNextKey))
    }

    static func parse(hub: String) throws -> (String, Int) {
        guard let address = HubAddress.parse(hub) else {
            throw SyncError(.unreachable, "the hub address '\(hub)' is not HOST:PORT; fix it with 'mufakat hub set HOST:PORT'")
        }
        return address
    }

    /// The dots of each `reused-dot` refusal (PROTOCOL §7.1), by record.
    static func reusedDots(_ rejected: [Pushed.Rejection]) -> [RecordKey: Set<Dot>] {
        var dots: [RecordKey: Set<Dot>] = [:]
        for rejection in rejected where rejection.code == RecordRejection.Code.reusedDot.rawValue {
            let parsed = rejection.parsedDots
            guard !parsed.isEmpty else { continue }
            dots[RecordKey(collection: rejection.collection, id: rejection.id), default: []].formUnion(parsed)
        }
        return dots
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
