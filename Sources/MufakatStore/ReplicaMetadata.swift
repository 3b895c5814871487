import GRDB
import MufakatCore

/// What a replica knows about itself: who it is, where its hub is, and how far it synced.
public struct ReplicaMetadata: Sendable, Hashable {
    public var replica: ReplicaID
    /// The name written into every entry as its author: `"Andi (IOM)"`.
    public var name: String
    public var hub: String
    public var token: String
    /// The counter of the last local write operation; the next write uses `counter + 1`.
    public var counter: UInt64
    /// Local sequence up to which the hub acknowledged pushes.
    public var pushedThrough: UInt64
    /// Hub sequence up to which changes were pulled and stored.
    public var checkpoint: UInt64
    /// Milliseconds since 1970 of the last sync that completed, 0 if none.
    public var lastSync: Int64
    /// The hub's replica id, learned at the first sync; a different hub resets the checkpoint.
    public var hubID: String
    /// The id of the last push the hub acknowledged ("" before the first).
    public var lastPush: String = ""
    /// A push sent and not yet acknowledged: its id and through ("" and 0 when none).
    public var inflightPush: String = ""
    public var inflightThrough: UInt64 = 0
    /// Replica ids this replica used before, oldest first (see `Incarnation`).
    public var previousReplicas: [String] = []
    /// The hub id (and rowid reached) of the last re-seed relay: every record is pushed once
    /// to a hub in re-seed mode.
    public var relayedHub: String = ""
    public var relayCursor: Int64 = 0
    /// The hub refused a record as `corruption`: this id's dots name other writes there.
    public var dotReused = false
    /// Ids of earlier acknowledged pushes, oldest first (see `ReplicaProgress.pushHistory`).
    public var pushHistory: [String] = []
    /// The hub's key as pinned at `init` (`SHA256:…`, see `HubKey`), "" when none is.
    public var hubKey: String = ""
    /// A key the hub announced it will switch to; accepted once, then pinned.
    public var hubNextKey: String = ""
    /// Plain TCP to the hub, only when set up with `--insecure`.
    public var insecure = false
    /// The organisation and role of this replica's token, as the hub last said in
    /// `welcome` ("" before the first sync with a hub that says them).
    public var org: String = ""
    public var role: String = ""
    /// Whether the hub names this replica's writes (protocol 5): every replica made by 0.8,
    /// and one of 0.7 after its first clean sync with a hub that speaks 5. `false`: writes
    /// are named by the replica's own counter and sync in protocol 4.
    public var naming = false
    /// The hub run (its actor) that served ``checkpoint`` (protocol 5, PROTOCOL.md §13.2).
    public var checkpointActor: String = ""
    /// The hub run (its actor) for which this replica last sent back every record holding
    /// writes the hub may lack (PROTOCOL.md §13.4); the pass is made once per run.
    public var relayPass: String = ""

    enum Key: String, CaseIterable {
        case replica, name, hub, token, counter, pushedThrough, checkpoint, lastSync, hubID
        case lastPush, inflightPush, inflightThrough, previousReplicas, relayedHub, relayCursor, dotReused, pushHistory
        case hubKey, hubNextKey, insecure, org, role, naming, checkpointActor, relayPass
    }

    /// Who this replica writes as, once a hub said it; `nil` before.
    public var writer: Writer? {
        guard let role = Role(rawValue: role), !org.isEmpty else { return nil }
        return Writer(org: org, role: role)
    }

    static func load(_ db: Database) throws -> ReplicaMetadata? {
        let rows = try Row.fetchAll(db, cached: "SELECT key, value FROM meta")
        var values: [String: String] = [:]
        for row in rows { values[row["key"]] = row["value"] }
        guard let replica = values[Key.replica.rawValue] else { return nil }
        return ReplicaMetadata(
            replica: try ReplicaID(replica),
            name: values[Key.name.rawValue] ?? "",
            hub: values[Key.hub.rawValue] ?? "",
            token: values[Key.token.rawValue] ?? "",
            counter: UInt64(values[Key.counter.rawValue] ?? "0") ?? 0,
            pushedThrough: UInt64(values[Key.pushedThrough.rawValue] ?? "0") ?? 0,
            checkpoint: UInt64(values[Key.checkpoint.rawValue] ?? "0") ?? 0,
            lastSync: Int64(values[Key.lastSync.rawValue] ?? "0") ?? 0,
            hubID: values[Key.hubID.rawValue] ?? "",
            lastPush: values[Key.lastPush.rawValue] ?? "",
            inflightPush: values[Key.inflightPush.rawValue] ?? "",
            inflightThrough: UInt64(values[Key.inflightThrough.rawValue] ?? "0") ?? 0,
            previousReplicas: (values[Key.previousReplicas.rawValue] ?? "").split(separator: ",").map(String.init),
            relayedHub: values[Key.relayedHub.rawValue] ?? "",
            relayCursor: Int64(values[Key.relayCursor.rawValue] ?? "0") ?? 0,
            dotReused: values[Key.dotReused.rawValue] == "1",
            pushHistory: (values[Key.pushHistory.rawValue] ?? "").split(separator: ",").map(String.init),
            hubKey: values[Key.hubKey.rawValue] ?? "",
            hubNextKey: values[Key.hubNextKey.rawValue] ?? "",
            insecure: values[Key.insecure.rawValue] == "1",
            org: values[Key.org.rawValue] ?? "",
            role: values[Key.role.rawValue] ?? "",
            naming: values[Key.naming.rawValue] == "1",
            checkpointActor: values[Key.checkpointActor.rawValue] ?? "", relayPass: values[Key.relayPass.rawValue] ?? "")
    }

    func save(_ db: Database) throws {
        let values: [Key: String] = [
            .replica: replica.rawValue, .name: name, .hub: hub, .token: token, .counter: String(counter),
            .pushedThrough: String(pushedThrough), .checkpoint: String(checkpoint), .lastSync: String(lastSync),
            .hubID: hubID, .lastPush: lastPush, .inflightPush: inflightPush, .inflightThrough: String(inflightThrough),
            .previousReplicas: previousReplicas.joined(separator: ","), .relayedHub: relayedHub,
            .relayCursor: String(relayCursor), .dotReused: dotReused ? "1" : "0",
            .pushHistory: pushHistory.joined(separator: ","),
            .hubKey: hubKey, .hubNextKey: hubNextKey, .insecure: insecure ? "1" : "0", .org: org, .role: role,
            .naming: naming ? "1" : "0", .checkpointActor: checkpointActor, .relayPass: relayPass,
        ]
        // Only the keys that changed: most saves move one counter or checkpoint.
        var stored: [String: String] = [:]
        for row in try Row.fetchAll(db, cached: "SELECT key, value FROM meta") { stored[row["key"]] = row["value"] }
        for (key, value) in values where stored[key.rawValue] != value {
            try db.execute(
                cached: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                arguments: [key.rawValue, value])
        }
    }
}
