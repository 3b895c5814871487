import MufakatCore
import MufakatSync

/// A dot on the wire: `["actor", counter]`.
public struct WireDot: Hashable, Sendable, Codable {
    public var dot: Dot

    public init(_ dot: Dot) { self.dot = dot }

    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let actor = try container.decode(String.self)
        let counter = try container.decode(UInt64.self)
        guard container.isAtEnd else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a dot is [actor, counter]")
        }
        guard let replica = try? ReplicaID(actor), counter > 0 else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a dot is an actor id and a counter from 1")
        }
        dot = Dot(replica: replica, counter: counter)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(dot.replica.rawValue)
        try container.encode(dot.counter)
    }
}

/// One run of the hub as `welcome` lists it (protocol 5): the actor whose dots it issued and
/// the sequence it began after. A replica's feed checkpoint is valid while its actor is
/// listed and its sequence does not pass the start of the next run (PROTOCOL.md §13.2).
public struct IncarnationInfo: Hashable, Sendable, Codable {
    public var actor: String
    public var from: UInt64

    public init(actor: String, from: UInt64) {
        self.actor = actor
        self.from = from
    }
}

/// Client to hub (protocol 5): pending writes to name, one `write` line each, in the order
/// they were made; the header names the batch.
public struct WriteBatch: Hashable, Sendable, Codable {
    /// The batch's id (1 to 64 characters), echoed in `named`; a later `pull` names it in
    /// ``Pull/skip`` to leave out records this replica already holds exactly.
    public var id: String

    public init(id: String) { self.id = id }

    public static let maxIDLength = 64
}

/// Hub to client (protocol 5): what became of each write of a `write` batch, one line per
/// write in the batch's order; all of it is on the hub's disk.
public struct Named: Hashable, Sendable, Codable {
    /// Echo of ``WriteBatch/id``.
    public var id: String
    /// The hub's sequence after the batch.
    public var seq: UInt64

    public init(id: String, seq: UInt64) {
        self.id = id
        self.seq = seq
    }
}

/// One line of `named`: the name the hub gave one write, or why it refused it.
public struct NamedLine: Hashable, Sendable, Codable {
    /// The write id.
    public var write: String
    /// The write's dot; absent when refused.
    public var dot: WireDot?
    /// The hub's clock when it named the write.
    public var time: Int64?
    /// Who wrote it, as the hub stamps it from the token: `name (organisation)`.
    public var author: String?
    /// The dots the write was applied over for its `after` writes, in their order.
    public var over: [WireDot]?
    /// Named before (a resend, a copy, a relay) or reserved as seen: nothing changed now.
    public var earlier: Bool?
    /// The pusher's named state was the hub's: it applies the write itself and holds the
    /// hub's state, whose voucher is ``voucher``.
    public var exact: Bool?
    public var voucher: String?
    /// Why the hub refused it; nothing of it was stored.
    public var refused: Pushed.Rejection?

    public init(
        write: String, dot: WireDot? = nil, time: Int64? = nil, author: String? = nil, over: [WireDot]? = nil, earlier: Bool? = nil,
        exact: Bool? = nil, voucher: String? = nil, refused: Pushed.Rejection? = nil
    ) {
        self.write = write
        self.dot = dot
        self.time = time
        self.author = author
        self.over = over
        self.earlier = earlier
        self.exact = exact
        self.voucher = voucher
        self.refused = refused
    }
}

/// Client to hub (protocol 5): record states this replica got from the hub with their
/// vouchers, sent back to a hub that lost them (restored from a backup); record lines follow,
/// each with its `voucher`.
public struct Relay: Hashable, Sendable, Codable {
    public var id: String

    public init(id: String) { self.id = id }
}

/// Hub to client (protocol 5): the relayed records it merged, already held, or refused.
public struct Relayed: Hashable, Sendable, Codable {
    public var id: String
    public var merged: Int
    public var unchanged: Int
    /// Refused records, at most ``Pushed/maxListed``.
    public var rejected: [Pushed.Rejection]
    public var seq: UInt64

    public init(id: String, merged: Int, unchanged: Int, rejected: [Pushed.Rejection], seq: UInt64) {
        self.id = id
        self.merged = merged
        self.unchanged = unchanged
        self.rejected = Array(rejected.prefix(Pushed.maxListed))
        self.seq = seq
    }
}
