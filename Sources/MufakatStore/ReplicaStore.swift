import Foundation
import GRDB
import MufakatCore

/// A field worker's replica: every record of every collection, in one SQLite file.
///
/// Every method is one transaction: it either happens whole or not at all. Nothing here
/// needs a network.
///
/// ```swift
/// let store = try ReplicaStore.create(at: "~/.mufakat/replica.sqlite",
///                                     hub: "hub.example.org:7420", token: "mft_…", name: "Andi (IOM)")
/// try store.put("positions", id: "kemnaker:ask-budget", [("stance", "ActiveSupport")])
/// ```
public final class ReplicaStore: Sendable {
    /// The database file's name inside a replica's home folder.
    public static let fileName = "replica.sqlite"

    let writer: any DatabaseWriter
    /// Wall-clock milliseconds; tests set it to play with clocks.
    let clock: @Sendable () -> Int64

    init(writer: any DatabaseWriter, clock: @escaping @Sendable () -> Int64) throws {
        self.writer = writer
        self.clock = clock
        try StoreSchema.migrate(StoreSchema.replicaMigrator, writer)
        // A pulled batch and its checkpoint, once stored, survive a power cut.
        try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    }

    public static let systemClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000) }

    /// Page cache per connection, in MiB: room for a large import's pages so one
    /// transaction does not spill to disk. A process that opens many stores at once (a
    /// benchmark of 100 replicas) passes less.
    public static let defaultCacheMiB = 64

    /// `readerCacheMiB` is the page cache of each reading connection of a pool (the writer's
    /// is `cacheMiB`): a hub reads its feed with several at once, one per pulling session.
    static func configuration(cacheMiB: Int = defaultCacheMiB, readerCacheMiB: Int? = nil) -> Configuration {
        var configuration = Configuration()
        // A sync and a `put` from another terminal may overlap: wait rather than fail.
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            let size = db.configuration.readonly ? readerCacheMiB ?? cacheMiB : cacheMiB
            try db.execute(sql: "PRAGMA cache_size = -\(size * 1024)")
        }
        return configuration
    }

    /// Creates a new replica at `path` with a fresh random replica id.
    ///
    /// - Throws: when a replica already exists there: its id must never be reused or lost.
    public static func create(
        at path: String, hub: String, token: String, name: String, hubKey: String = "", insecure: Bool = false,
        cacheMiB: Int = defaultCacheMiB, naming: Bool = true,
        clock: @escaping @Sendable () -> Int64 = systemClock
    ) throws -> ReplicaStore {
        if FileManager.default.fileExists(atPath: path) {
            let existing = try open(at: path, cacheMiB: cacheMiB, clock: clock)
            if let metadata = try existing.metadataIfInitialized() {
                throw MufakatError(
                    .invalid,
                    "a replica already exists at \(path) (replica \(metadata.replica), hub \(metadata.hub)); use another --home, or remove that folder only if you are sure its changes are synced")
            }
            try existing.initialize(hub: hub, token: token, name: name, hubKey: hubKey, insecure: insecure, naming: naming)
            return existing
        }
        let directory = (path as NSString).deletingLastPathComponent
        let newFolder = !directory.isEmpty && !FileManager.default.fileExists(atPath: directory)
        let store = try open(at: path, cacheMiB: cacheMiB, clock: clock)
        // The replica holds the token and the coalition's figures: its owner's only. A
        // folder made here is the owner's only too; an existing one is left as it is.
        if newFolder { try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory) }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        try store.initialize(hub: hub, token: token, name: name, hubKey: hubKey, insecure: insecure, naming: naming)
        return store
    }

    /// Points the replica at another hub address or token, keeping its data and sync state:
    /// a hub that moved keeps its id and the replica carries on; a different hub (a new id)
    /// is noticed at the next sync, which then sends it everything (see `beginSync`).
    /// A new `hubKey` (pinned, `SHA256:…`) or `insecure` replaces how the hub is trusted
    /// and forgets any key the old one announced.
    @discardableResult
    public func reconfigure(hub: String? = nil, token: String? = nil, hubKey: String? = nil, insecure: Bool? = nil) throws -> ReplicaMetadata {
        try writer.write { db in
            var metadata = try Self.requireMetadata(db)
            if let hub { metadata.hub = hub }
            if let token { metadata.token = token }
            if let hubKey {
                metadata.hubKey = hubKey
                metadata.hubNextKey = ""
                metadata.insecure = false
            }
            if let insecure {
                metadata.insecure = insecure
                if insecure { metadata.hubNextKey = "" }
            }
            try metadata.save(db)
            return metadata
        }
    }

    /// Opens the replica at `path`, creating the file and tables if needed (but not the
    /// replica identity: see ``create(at:hub:token:name:clock:)``).
    public static func open(
        at path: String, cacheMiB: Int = defaultCacheMiB, clock: @escaping @Sendable () -> Int64 = systemClock
    ) throws -> ReplicaStore {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        return try ReplicaStore(writer: DatabasePool(path: path, configuration: configuration(cacheMiB: cacheMiB)), clock: clock)
    }

    /// A replica that lives in memory only, for tests.
    public static func inMemory(
        hub: String = "localhost:7420", token: String = "test", name: String = "Test", hubKey: String = "", insecure: Bool = false,
        naming: Bool = true, clock: @escaping @Sendable () -> Int64 = systemClock
    ) throws -> ReplicaStore {
        let store = try ReplicaStore(writer: DatabaseQueue(configuration: configuration()), clock: clock)
        try store.initialize(hub: hub, token: token, name: name, hubKey: hubKey, insecure: insecure, naming: naming)
        return store
    }

    private func initialize(hub: String, token: String, name: String, hubKey: String, insecure: Bool, naming: Bool = true) throws {
        try writer.write { db in
            var metadata = ReplicaMetadata(
                replica: ReplicaID.random(), name: name, hub: hub, token: token, counter: 0, pushedThrough: 0,
                checkpoint: 0, lastSync: 0, hubID: "")
            metadata.hubKey = hubKey
            metadata.insecure = insecure
            metadata.naming = naming
            try metadata.save(db)
        }
    }

    func metadataIfInitialized() throws -> ReplicaMetadata? {
        try writer.read { db in try ReplicaMetadata.load(db) }
    }

    /// The replica's identity and sync progress.
    public func metadata() throws -> ReplicaMetadata {
        try writer.read { db in try Self.requireMetadata(db) }
    }

    static func requireMetadata(_ db: Database) throws -> ReplicaMetadata {
        guard let metadata = try ReplicaMetadata.load(db) else {
            throw MufakatError(.notFound, "this folder holds no replica; run the 'mufakat init --hub HOST:PORT --hub-key SHA256:… --token TOKEN' line from the hub's operator first")
        }
        return metadata
    }

    /// Changes where and as whom this replica syncs.
    public func updateSettings(hub: String?, token: String?, name: String?) throws {
        try writer.write { db in
            var metadata = try Self.requireMetadata(db)
            if let hub { metadata.hub = hub }
            if let token { metadata.token = token }
            if let name { metadata.name = name }
            try metadata.save(db)
        }
    }

    /// Copies the whole replica to a new file at `path`, consistently, while it stays in use.
    public func backup(to path: String) throws {
        let destination = try DatabaseQueue(path: path)
        try writer.backup(to: destination)
    }

    /// `PRAGMA synchronous` of the writer connection: 2 (FULL) once opened.
    public func writerSynchronous() throws -> Int {
        try writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// `PRAGMA integrity_check`: `["ok"]` for a healthy file.
    public func integrityCheck() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }
}
