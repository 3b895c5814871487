import MufakatCore

/// Every message of protocol version 2.
///
/// A message is a header (a JSON object whose `type` names the case) and, for `push` and
/// `changes`, record lines.
public enum Message: Hashable, Sendable {
    case hello(Hello)
    case welcome(Welcome)
    case error(ErrorMessage)
    case push(Push, records: [ReplicatedRecord])
    case pushed(Pushed)
    case pull(Pull)
    case changes(Changes, records: [ReplicatedRecord])
    /// A `changes` message whose record lines are canonical text already (`lines`, without
    /// newlines): a hub serves stored states this way without decoding and encoding them
    /// again. It encodes to exactly the bytes of `.changes` with those records; decoding
    /// gives `.changes`.
    case changesLines(Changes, lines: [String])
    /// Client to hub: the audit history of one record (§5.7).
    case history(HistoryRequest)
    /// Hub to client: the entries of that history, one JSON line each.
    case recordHistory(RecordHistory, entries: [AuditEntry])
    case ping(Ping)
    case pong(Ping)
    case bye
    /// Protocol 5, client to hub: pending writes for the hub to name (§13.3).
    case write(WriteBatch, writes: [PushedWrite])
    /// Protocol 5, hub to client: one line per write of the batch.
    case named(Named, lines: [NamedLine])
    /// Protocol 5, client to hub: vouched states sent back to a hub that lost them (§13.4).
    case relay(Relay, records: [ReplicatedRecord])
    /// Protocol 5, hub to client: what the relay did.
    case relayed(Relayed)

    /// The header's `type`.
    public var type: MessageType {
        switch self {
        case .hello: return .hello
        case .welcome: return .welcome
        case .error: return .error
        case .push: return .push
        case .pushed: return .pushed
        case .pull: return .pull
        case .changes, .changesLines: return .changes
        case .history: return .history
        case .recordHistory: return .recordHistory
        case .ping: return .ping
        case .pong: return .pong
        case .bye: return .bye
        case .write: return .write
        case .named: return .named
        case .relay: return .relay
        case .relayed: return .relayed
        }
    }

    public var records: [ReplicatedRecord] {
        switch self {
        case .push(_, let records), .changes(_, let records), .relay(_, let records): return records
        default: return []
        }
    }
}

/// The value of a header's `type`.
public enum MessageType: String, Hashable, Sendable, CaseIterable {
    case hello, welcome, error, push, pushed, pull, changes, ping, pong, bye, history
    case recordHistory = "record-history"
    case write, named, relay, relayed

    /// Whether record lines may follow a header of this type.
    public var carriesRecords: Bool { self == .push || self == .changes || self == .relay }
    /// Whether any lines may follow the header: records, writes, names or audit entries.
    public var carriesLines: Bool { carriesRecords || self == .recordHistory || self == .write || self == .named }
    /// The first protocol version with this message.
    public var sinceVersion: Int {
        switch self {
        case .history, .recordHistory: return WireProtocol.historyVersion
        case .write, .named, .relay, .relayed: return WireProtocol.namingVersion
        default: return 2
        }
    }
}

/// Version constants.
public enum WireProtocol {
    /// The protocol version this build speaks: 4, version 3 (records in the compact form)
    /// with `history` (PROTOCOL.md §9).
    public static let version = 4
    /// Every version this build speaks: a hub serves older clients beside new ones during
    /// an upgrade, and a client steps down, 4 to 3 to 2, for a hub that speaks no newer one.
    public static let versions: Set<Int> = [2, 3, 4]
    /// Every version a hub of this build serves: ``versions`` and 5, in which the hub names
    /// every write (`write`, `named`, `relay`, `relayed`; PROTOCOL.md §13).
    public static let hubVersions: Set<Int> = versions.union([namingVersion])
    /// The first version with `history` and `record-history`.
    public static let historyVersion = 4
    /// The version in which the hub names writes and serves vouchers (PROTOCOL.md §13).
    public static let namingVersion = 5
    /// The form of record lines in sessions of ``version``.
    public static let recordForm = RecordForm(protocolVersion: version)
    /// Most records a sender puts in one `push` or `changes` frame unless told otherwise.
    public static let defaultBatchSize = 1_000
}

/// Client to hub: asks for the audit history of one record (PROTOCOL.md §5.7). Hubs before
/// 0.7 answer `unknown-type`.
public struct HistoryRequest: Hashable, Sendable, Codable {
    public var collection: String
    public var id: String
    /// Most entries wanted: the latest ones, 1 to 1,000.
    public var limit: Int

    public init(collection: String, id: String, limit: Int = 200) {
        self.collection = collection
        self.id = id
        self.limit = limit
    }
}

/// Hub to client: a record's history; one audit entry per line follows, oldest first.
public struct RecordHistory: Hashable, Sendable, Codable {
    /// Whether the hub holds the record and the token may receive it. False: no lines.
    public var found: Bool
    /// Entries the hub left out: older than the limit, or written while the record stayed
    /// in-house with another organisation.
    public var omitted: Int

    public init(found: Bool, omitted: Int = 0) {
        self.found = found
        self.omitted = omitted
    }
}
