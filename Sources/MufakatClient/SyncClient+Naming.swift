import Foundation
import MufakatCore
import MufakatStore
import MufakatSync
import MufakatWire
import MufakatTLS
import NIOCore
import NIOPosix
import NIOSSL

extension SyncClient {
    /// One session of protocol 5 (PROTOCOL.md §13): relay what a restored hub lost, send the
    /// pending writes for the hub to name, then pull.
    ///
    /// Every answer is stored as it arrives — names and the states of writes answered
    /// `exact` in one transaction per batch, each pulled batch with its checkpoint — so a cut
    /// connection loses nothing: writes the hub named and whose answer was lost are sent
    /// again, and the hub answers them with the names it gave.
    func namedSession(progress: @escaping @Sendable (SyncProgress) -> Void, previous: SyncSummary?) async throws -> SyncSummary {
        let started = ContinuousClock.now
        let metadata = try await store.loadMetadata()
        let (host, port) = try Self.parse(hub: metadata.hub)
        let version = WireProtocol.namingVersion
        var summary = previous ?? SyncSummary()
        summary.hub = metadata.hub
        summary.protocolVersion = version
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
        do {
            try await connection.executeThenClose { inbound, outbound in
                var messages: NIOAsyncChannelInboundStream<Message>.AsyncIterator = inbound.makeAsyncIterator()
                func receive(_ expected: MessageType) async throws -> Message {
                    try await Self.receive(&messages, expected, timeout: timeout, hub: metadata.hub)
                }

                try await outbound.write(.hello(Hello(
                    version: version, replica: metadata.replica.rawValue, token: metadata.token, client: "\(clientName) (\(metadata.name))")))
                guard case .welcome(let welcome) = try await receive(.welcome) else { return }
                guard welcome.version == version, let runs = welcome.incarnations, let run = runs.last else {
                    throw SyncError(.protocolError, "the hub answered hello version \(version) with a welcome of version \(welcome.version) without its runs (PROTOCOL.md §13.2)")
                }
                summary.hubSoftware = welcome.software ?? ""
                summary.replica = metadata.replica.rawValue
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
                if let org = welcome.org, let role = welcome.role.flatMap(Role.init(rawValue:)) {
                    summary.access = try await store.noteAccess(Writer(org: org, role: role))
                }
                let start = try await store.beginNamedSync(
                    incarnations: runs.map { ($0.actor, $0.from) }, sequence: welcome.seq, held: welcome.held ?? [:], reseed: welcome.reseed,
                    hubID: welcome.hub)
                if let behind = start.hubBehind {
                    var message = behind + "; this replica pulls everything again"
                    if !start.relayKeys.isEmpty { message += " and sends back the \(start.relayKeys.count) record(s) the hub lost" }
                    if start.unvouched > 0 {
                        message += "; \(start.unvouched) record(s) it holds were named before 0.8 or merged here and carry no voucher, so the hub cannot take them back from this replica (ask its operator about re-seed mode)"
                    }
                    summary.hubBehind = message
                }
                let limit = max(1, min(batchSize, welcome.limits.records, Pushed.maxListed))
                let maxBytes = max(64 << 10, min(1 << 20, welcome.limits.inflatedBytes / 8))
                var state = SyncProgress(phase: .pushing, pushed: 0, toPush: try await store.countPending(), pulled: 0, hubBacklog: welcome.seq)
                progress(state)

                // Relay first: a write made on a state the hub lost is named only once the
                // hub holds that state again (§13.4).
                var relayOffset = 0
                while relayOffset < start.relayKeys.count {
                    let keys = start.relayKeys[relayOffset..<min(start.relayKeys.count, relayOffset + limit)]
                    relayOffset += keys.count
                    let records = try await store.relayRecords(keys)
                    guard !records.isEmpty else { continue }
                    let id = Self.batchID()
                    try await outbound.write(.relay(Relay(id: id), records: records))
                    guard case .relayed(let relayed) = try await receive(.relayed) else { return }
                    guard relayed.id == id else {
                        throw SyncError(.protocolError, "the hub answered relay \(id) with relayed \(relayed.id)")
                    }
                    summary.relayed += relayed.merged
                    summary.rejected += relayed.rejected
                }
                if !start.relayKeys.isEmpty { try await store.noteRelayPass(run: run.actor) }

                // Write: pending writes oldest first, one answered batch at a time.
                var cursor: Int64 = 0
                var skip: [String] = []
                var batches = 0
                while true {
                    let next = try await store.nextWrites(after: cursor, limit: limit, maxBytes: maxBytes)
                    guard !next.writes.isEmpty else { break }
                    cursor = next.last
                    let id = Self.batchID()
                    try await outbound.write(.write(WriteBatch(id: id), writes: next.writes))
                    guard case .named(let named, let lines) = try await receive(.named) else { return }
                    guard named.id == id, lines.count == next.writes.count,
                        zip(lines, next.writes).allSatisfy({ $0.write == $1.write.id.rawValue })
                    else {
                        throw SyncError(.protocolError, "the hub's answer to write batch \(id) does not name its \(next.writes.count) write(s) in order")
                    }
                    let answers = try zip(lines, next.writes).map { line, pushed in try Self.answer(line, for: pushed.write.id) }
                    let outcome = try await store.acknowledgeWrites(next.writes, answers: answers)
                    if outcome.skippable, skip.count < Pull.maxSkip { skip.append(id) }
                    summary.pushed += outcome.named
                    summary.unchanged += answers.filter { $0.earlier }.count
                    summary.rejected += lines.compactMap(\.refused)
                    state.pushed += next.writes.count
                    progress(state)
                    batches += 1
                    try afterPushBatch(batches)
                }

                // Pull: everything after the checkpoint, each batch stored with it. The next
                // pull goes out as soon as a batch arrives.
                state.phase = .pulling
                progress(state)
                var checkpoint = start.checkpoint
                try await outbound.write(.pull(Pull(since: checkpoint, limit: limit, skip: skip.isEmpty ? nil : skip)))
                var pulls = 0
                while true {
                    guard case .changes(let changes, let records) = try await receive(.changes) else { return }
                    if changes.more {
                        guard changes.through > checkpoint else {
                            throw SyncError(.protocolError, "the hub says more changes wait but did not move the checkpoint past \(checkpoint)")
                        }
                        try await outbound.write(.pull(Pull(since: changes.through, limit: limit, skip: skip.isEmpty ? nil : skip)))
                    }
                    let outcome = try await store.applyNamedPull(records, through: changes.through, actor: run.actor)
                    checkpoint = changes.through
                    summary.pulled += records.count
                    summary.changed += outcome.changed
                    summary.newConflicts += outcome.newConflicts
                    state.pulled += records.count
                    progress(state)
                    pulls += 1
                    try afterPullBatch(pulls)
                    if !changes.more { break }
                }
                try await outbound.write(.bye)
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
        return summary
    }

    /// The next message from the hub, which must be of type `expected`; an `error` from the
    /// hub, a closed connection, a malformed frame or a silence past `timeout` are thrown
    /// as ``SyncError``s saying what to do.
    static func receive(
        _ messages: inout NIOAsyncChannelInboundStream<Message>.AsyncIterator, _ expected: MessageType, timeout: TimeAmount, hub: String
    ) async throws -> Message {
        let message: Message?
        do {
            message = try await messages.next()
        } catch {
            throw receiveFailure(error, timeout: timeout, advice: "; sync again to carry on")
        }
        guard let message else {
            throw SyncError(.connectionLost, "the hub closed the connection; sync again to carry on")
        }
        if case .error(let error) = message { throw SyncError.fromHub(error, hub: hub) }
        guard message.type == expected else {
            throw SyncError(.protocolError, "expected \(expected.rawValue) from the hub, got \(message.type.rawValue)")
        }
        return message
    }

    /// A fresh batch id: 16 random hex digits.
    static func batchID() -> String {
        let bits = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return String(repeating: "0", count: 16 - bits.count) + bits
    }

    /// A `named` line as the store takes it; a line that names neither a dot nor a
    /// refusal breaks the protocol.
    static func answer(_ line: NamedLine, for write: WriteID) throws -> WriteAnswer {
        if let refused = line.refused {
            return WriteAnswer(write: write, dot: nil, refusal: (refused.code, refused.fields, refused.reason ?? ""))
        }
        guard let dot = line.dot?.dot, let time = line.time, let author = line.author else {
            throw SyncError(.protocolError, "the hub's answer for write \(write) names neither a dot with its time and author nor a refusal")
        }
        if let voucher = line.voucher, !ReplicatedRecord.isVoucher(voucher) {
            throw SyncError(.protocolError, "the hub's voucher for write \(write) is not \(ReplicatedRecord.voucherCharacters) base64url characters")
        }
        return WriteAnswer(
            write: write, dot: dot, time: time, author: author, over: (line.over ?? []).map(\.dot), exact: line.exact == true,
            earlier: line.earlier == true, voucher: line.voucher)
    }
}
