import MufakatCore
import MufakatWire

/// The rules of a hub session, with no I/O: each received message gives the action the
/// session must take.
///
/// `hello` first (a `ping` may come before it); then `push` (protocol 2–4) or `write` and
/// `relay` (protocol 5), `pull`, `history` and `ping` in any order; `bye` ends it. Anything else
/// is a protocol error answered with an `error` frame, after which the session closes.
public struct HubSessionStateMachine: Sendable {
    /// Who a session speaks for, once the token is checked.
    public struct Peer: Sendable, Hashable {
        public var replica: ReplicaID
        public var tokenID: String
        public var name: String
        /// The protocol version of the session (from `hello`), which sets the form of its
        /// record lines.
        public var version: Int

        public init(replica: ReplicaID, tokenID: String, name: String, version: Int = WireProtocol.version) {
            self.replica = replica
            self.tokenID = tokenID
            self.name = name
            self.version = version
        }

        public var recordForm: RecordForm { RecordForm(protocolVersion: version) }
    }

    public enum State: Sendable, Hashable {
        case awaitingHello
        case active(Peer)
        case closed
    }

    public enum Action: Sendable, Hashable {
        /// Check the token and bind the replica, then call ``authenticated(_:)`` and send
        /// `welcome`, or ``fail(_:)`` with `unauthorized`.
        case authenticate(Hello, ReplicaID)
        case applyPush(Push, [ReplicatedRecord], Peer)
        /// Serve changes; the limit is already capped. `skip`: the pull's write batches
        /// (protocol 5) whose exact records the peer holds.
        case servePull(since: UInt64, limit: Int, Peer, skip: [String] = [])
        /// Protocol 5: name the batch's writes and answer `named`.
        case nameWrites(WriteBatch, [PushedWrite], Peer)
        /// Protocol 5: take back vouched states and answer `relayed`.
        case relay(Relay, [ReplicatedRecord], Peer)
        /// Answer with the record's audit history, as far as the peer's token may see it.
        case serveHistory(HistoryRequest, Peer)
        case pong(Ping)
        /// Close without a reply (the peer said `bye`, or sent an `error`).
        case close
        /// Send an `error` frame, then close.
        case fail(WireError)
    }

    public private(set) var state: State = .awaitingHello
    let supportedVersions: Set<Int>
    /// Most records the hub puts in one `changes` frame; a larger `pull.limit` is capped to it.
    let pullLimit: Int
    /// The records limit announced in `welcome`: a `pull.limit` above it is refused (§4).
    let recordsLimit: Int

    public init(supportedVersions: Set<Int> = WireProtocol.hubVersions, pullLimit: Int = 1_000, recordsLimit: Int = WireLimits.default.records) {
        self.supportedVersions = supportedVersions
        self.pullLimit = min(pullLimit, recordsLimit)
        self.recordsLimit = recordsLimit
    }

    public mutating func received(_ message: Message) -> Action {
        switch (state, message) {
        case (.closed, _):
            return .close
        case (_, .error), (_, .bye):
            state = .closed
            return .close
        case (.awaitingHello, .hello(let hello)):
            guard supportedVersions.contains(hello.version) else {
                return fail(.versionUnsupported, "protocol version \(hello.version) is not supported; this hub speaks \(supportedVersions.sorted().map(String.init).joined(separator: ", ")); update mufakat to a release that speaks it")
            }
            guard let replica = try? ReplicaID(hello.replica) else {
                return fail(.badField, "hello: replica '\(hello.replica)' is not a replica id (1 to 64 characters from a-z, 0-9 and '-')")
            }
            return .authenticate(hello, replica)
        case (.awaitingHello, .ping(let ping)):
            // A health check (`mufakat-hub health`, a load balancer): answered without a
            // token, and the session still waits for `hello`.
            return .pong(ping)
        case (.awaitingHello, _):
            return fail(.unexpectedMessage, "\(message.type.rawValue) before hello; a session starts with hello")
        case (.active, .hello):
            return fail(.unexpectedMessage, "hello was already received in this session")
        case (.active(let peer), .push(let push, let records)):
            guard peer.version < WireProtocol.namingVersion else {
                return fail(.unexpectedMessage, "push carries states named by replicas (protocol 4 and older); in protocol \(peer.version) the hub names writes: send write (PROTOCOL.md §13.3)")
            }
            return .applyPush(push, records, peer)
        case (.active(let peer), .write(let batch, let writes)):
            guard peer.version >= WireProtocol.namingVersion else {
                return fail(.unexpectedMessage, "write is a message of protocol version \(WireProtocol.namingVersion); this session speaks \(peer.version)")
            }
            return .nameWrites(batch, writes, peer)
        case (.active(let peer), .relay(let relay, let records)):
            guard peer.version >= WireProtocol.namingVersion else {
                return fail(.unexpectedMessage, "relay is a message of protocol version \(WireProtocol.namingVersion); this session speaks \(peer.version)")
            }
            return .relay(relay, records, peer)
        case (.active(let peer), .pull(let pull)):
            guard (1...recordsLimit).contains(pull.limit) else {
                return fail(.badField, "pull: limit must be from 1 to the records limit announced in welcome (\(recordsLimit))")
            }
            let skip = peer.version >= WireProtocol.namingVersion ? pull.skip ?? [] : []
            return .servePull(since: pull.since, limit: min(pull.limit, pullLimit), peer, skip: skip)
        case (.active(let peer), .history(let request)):
            guard peer.version >= WireProtocol.historyVersion else {
                return fail(.unexpectedMessage, "history is a message of protocol version \(WireProtocol.historyVersion); this session speaks \(peer.version)")
            }
            return .serveHistory(request, peer)
        case (.active, .ping(let ping)):
            return .pong(ping)
        case (.active, _):
            return fail(.unexpectedMessage, "\(message.type.rawValue) is sent by the hub, not to it")
        }
    }

    /// The form record lines take in this session: its version's once `hello` is taken.
    public var recordForm: RecordForm {
        if case .active(let peer) = state { return peer.recordForm }
        return WireProtocol.recordForm
    }

    /// The token was good: the session is open for `peer`.
    public mutating func authenticated(_ peer: Peer) {
        if case .awaitingHello = state { state = .active(peer) }
    }

    /// Any failure ends the session.
    public mutating func fail(_ error: WireError) -> Action {
        state = .closed
        return .fail(error)
    }

    mutating func fail(_ code: WireError.Code, _ message: String) -> Action {
        fail(WireError(code, message))
    }
}
