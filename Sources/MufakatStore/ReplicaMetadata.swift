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

    enum Key: String, CaseIterable {
        case replica, name, hub, token, counter, pushedThrough, checkpoint, lastSync, hubID
    }

    static func load(_ db: Database) throws -> ReplicaMetadata? {
        let rows = try Row.fetchAll(db, sql: "SELECT key, value FROM meta")
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
            hubID: values[Key.hubID.rawValue] ?? "")
    }

    func save(_ db: Database) throws {
        let values: [Key: String] = [
            .replica: replica.rawValue, .name: name, .hub: hub, .token: token, .counter: String(counter),
            .pushedThrough: String(pushedThrough), .checkpoint: String(checkpoint), .lastSync: String(lastSync),
            .hubID: hubID,
        ]
        for (key, value) in values {
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                arguments: [key.rawValue, value])
        }
    }
}
