import Crypto
import Foundation
import GRDB
import MufakatCore
import MufakatSync

/// The hub's copy: every record, the hub sequence that numbers changes, the tokens
/// people sync with (only their SHA-256 is stored), and the replicas that have synced.
///
/// It shares the `records` table and its migrations with ``ReplicaStore``; `seq` is the hub
/// sequence here, and `origin` names the replica whose push produced the stored state
/// exactly, so that replica is not sent back what it already has.
public final class HubStore: Sendable {
    public static let fileName = "hub.sqlite"

    let writer: any DatabaseWriter
    let clock: @Sendable () -> Int64

    init(writer: any DatabaseWriter, clock: @escaping @Sendable () -> Int64) throws {
        self.writer = writer
        self.clock = clock
        try StoreSchema.migrate(Self.migrator, writer)
        // An acknowledged push must survive a power cut: the writer syncs every commit to
        // disk. GRDB sets `synchronous = NORMAL` on WAL connections after prepareDatabase,
        // so this is set here, on the live writer connection.
        try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let created = try writer.write { db in
            guard try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'hubID'") == nil else { return false }
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('hubID', ?), ('seq', '0')", arguments: [ReplicaID.random().rawValue])
            return true
        }
        // A new hub's id and voucher key go into the file itself at once, not only its WAL:
        // a copy of the file made without its `-wal` (a careless backup) still holds them, so
        // the restored hub still recognises the vouchers its replicas hold.
        if created, writer is DatabasePool {
            try writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        }
    }

    /// Whether the hub file in `directory` was written by an older version and opening it
    /// will upgrade it (false when there is none).
    public static func needsUpgrade(directory: String) throws -> Bool {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return false }
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in try StoreSchema.hasPendingMigrations(migrator, db) }
    }

    static var migrator: DatabaseMigrator {
        var migrator = StoreSchema.migrator
        migrator.registerMigration("hub-v1") { db in
            try db.execute(sql: """
                CREATE TABLE tokens (
                    id TEXT PRIMARY KEY NOT NULL,
                    org TEXT NOT NULL,
                    name TEXT NOT NULL,
                    hash TEXT NOT NULL UNIQUE,
                    created INTEGER NOT NULL,
                    revoked INTEGER
                );
                CREATE TABLE replicas (
                    replica TEXT PRIMARY KEY NOT NULL,
                    token TEXT NOT NULL REFERENCES tokens(id),
                    counter INTEGER NOT NULL DEFAULT 0,
                    client TEXT NOT NULL DEFAULT '',
                    first_seen INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("hub-v2-ledger") { db in
            // What the hub remembers of each replica id (see LedgerEntry); `replicas.counter`
            // is left unused: it was compared as a signed number.
            try db.execute(sql: """
                CREATE TABLE ledger (
                    replica TEXT PRIMARY KEY NOT NULL,
                    counter INTEGER NOT NULL DEFAULT 0,
                    through INTEGER NOT NULL DEFAULT 0,
                    push TEXT NOT NULL DEFAULT '',
                    served INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                INSERT INTO ledger (replica, counter) SELECT replica, counter FROM replicas WHERE counter > 0;
                """)
        }
        migrator.registerMigration("hub-v2-ledger-recent") { db in
            // The last acknowledged pushes of each replica id, as JSON `[{"push", "through"}]`
            // (see LedgerEntry.recent).
            try db.execute(sql: "ALTER TABLE ledger ADD COLUMN recent TEXT NOT NULL DEFAULT '[]'")
        }
        migrator.registerMigration("hub-v3-dots") { db in
            // The dot index: the record each write's dot was first stored in (PROTOCOL §6.4
            // rule 5, `reused-dot`). Filled from the records held now; from then on each
            // stored state adds the dots it brings.
            try db.execute(sql: """
                CREATE TABLE dots (
                    replica TEXT NOT NULL,
                    counter INTEGER NOT NULL,
                    collection TEXT NOT NULL,
                    id TEXT NOT NULL,
                    PRIMARY KEY (replica, counter)
                ) WITHOUT ROWID;
                """)
            let rows = try Row.fetchCursor(db, sql: "SELECT collection, id, state FROM records ORDER BY seq")
            while let row = try rows.next() {
                try db.indexDots(of: try RecordState(json: row["state"]), collection: row["collection"], id: row["id"])
            }
        }
        migrator.registerMigration("hub-v4-compact-states") { db in
            try StoreSchema.compactStates(db)
        }
        migrator.registerMigration("hub-v5-organisations") { db in
            // Roles: a token issued before them becomes a member's (the safe side: the
            // operator raises the lead agency's tokens with 'token role ID coordinator').
            // Token organisations are compared with organizations ids: trimmed, lower case.
            // In-house records: those stored before stay published (every replica already
            // holds them). The audit log starts now, with an entry saying from which hub
            // sequence it holds every stored change.
            try db.execute(sql: """
                ALTER TABLE tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
                ALTER TABLE records ADD COLUMN inhouse TEXT;
                CREATE TABLE audit_log (
                    entry INTEGER PRIMARY KEY,
                    seq INTEGER NOT NULL,
                    time INTEGER NOT NULL,
                    token TEXT NOT NULL,
                    name TEXT NOT NULL,
                    org TEXT NOT NULL,
                    role TEXT NOT NULL,
                    replica TEXT NOT NULL,
                    collection TEXT NOT NULL,
                    id TEXT NOT NULL,
                    inhouse TEXT,
                    inhouse_before TEXT,
                    dots TEXT NOT NULL,
                    changes TEXT NOT NULL,
                    kind TEXT,
                    through INTEGER,
                    through_hash TEXT,
                    prev TEXT NOT NULL,
                    hash TEXT NOT NULL
                );
                UPDATE tokens SET org = lower(trim(org));
                CREATE INDEX audit_log_record ON audit_log (collection, id, entry);
                CREATE INDEX audit_log_time ON audit_log (time);
                """)
            try Self.appendAudit(db, AuditEntry(
                entry: 1, seq: try Self.sequence(db) + 1, time: ReplicaStore.systemClock(), token: "-", name: "-", org: "-", role: "-",
                replica: "-", collection: "", id: "", inHouse: nil, dots: [], changes: [:], prev: "", kind: "start"))
        }
        migrator.registerMigration("hub-v6-stance-history") { db in
            try StoreSchema.createStanceHistory(db)
        }
        migrator.registerMigration("hub-v7-dashboard-links") { db in
            // One-time sign-in links for the dashboard: the SHA-256 of the code, the token it
            // signs in as, and when it stops working.
            try db.execute(sql: """
                CREATE TABLE dashboard_links (
                    hash TEXT PRIMARY KEY NOT NULL,
                    token TEXT NOT NULL REFERENCES tokens(id),
                    expires INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("hub-v8-write-naming") { db in
            // Protocol 5 (docs/write-naming.md): the hub names every write. `incarnations`:
            // one row per hub start, the actor its dots name, the sequence it began after and
            // the last counter it issued. `writes`: write id → the dot it was named with and
            // its record (`entered_at` NULL for an id reserved as seen before it arrived), the
            // pushing token, the hub's stamp, and the laptop's clock and typed name, kept for
            // display only; `digest` is the SHA-256 of its values, to refuse an id reused for
            // other values.
            try db.execute(sql: """
                CREATE TABLE incarnations (
                    actor TEXT PRIMARY KEY NOT NULL,
                    from_seq INTEGER NOT NULL,
                    counter INTEGER NOT NULL DEFAULT 0,
                    started INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE writes (
                    wid TEXT PRIMARY KEY NOT NULL,
                    actor TEXT NOT NULL,
                    counter INTEGER NOT NULL,
                    collection TEXT NOT NULL,
                    id TEXT NOT NULL,
                    token TEXT NOT NULL,
                    author TEXT NOT NULL,
                    time INTEGER NOT NULL,
                    entered_at INTEGER,
                    entered_by TEXT,
                    digest TEXT
                ) WITHOUT ROWID;
                CREATE UNIQUE INDEX writes_dot ON writes (actor, counter);
                """)
            // The key of the hub's vouchers (HubStore+Vouchers): in the hub file, so every
            // backup carries it and only a hub rebuilt empty lacks it.
            try db.execute(
                sql: "INSERT OR IGNORE INTO meta (key, value) VALUES ('voucherKey', ?)",
                arguments: [Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }).base64EncodedString()])
        }
        migrator.registerMigration("hub-v9-held-actors") { db in
            // Actors this file holds dots of without having issued them: runs of a hub whose
            // file was restored past them, whose records came back by relay (§13.4). With
            // `incarnations` and the ledger, what `welcome` reports as held.
            try db.execute(sql: """
                CREATE TABLE held (
                    actor TEXT PRIMARY KEY NOT NULL,
                    counter INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("hub-v10-write-tags") { db in
            // Writes are kept by tag, not id (PROTOCOL.md §13.5): the hub publishes tags, and
            // a relay teaches a restored hub the tag of a write it named before. `records.tags`:
            // the tags of the state's writes, by dot, served and vouched beside the state.
            try db.execute(sql: "ALTER TABLE writes RENAME COLUMN wid TO tag")
            for id in try String.fetchAll(db, sql: "SELECT tag FROM writes") {
                guard let write = try? WriteID(id) else { continue }
                try db.execute(sql: "UPDATE writes SET tag = ? WHERE tag = ?", arguments: [write.tag, id])
            }
            try db.execute(sql: "ALTER TABLE records ADD COLUMN tags TEXT")
        }
        return migrator
    }

    /// Opens (or creates) the hub store in `directory`.
    ///
    /// The file holds token hashes, the coalition's data and a copy of the hub's TLS key: it
    /// is made readable by its owner only (and SQLite gives its `-wal` and `-shm` files the
    /// same mode), and an existing one that others could read is narrowed to that.
    public static func open(directory: String, clock: @escaping @Sendable () -> Int64 = ReplicaStore.systemClock) throws -> HubStore {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent(fileName)
        let descriptor = Foundation.open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0o600)
        if descriptor >= 0 { close(descriptor) }
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            if stat(file, &info) == 0, info.st_mode & 0o077 != 0, info.st_uid == geteuid() {
                chmod(file, 0o600)
            }
        }
        // Pulls scan the feed in order, which a large page cache hardly helps, and up to five
        // reading connections serve them at once: each gets 8 MiB, the writer 32 MiB (B4:
        // 100 sessions at once peaked at 502 MiB with 64 MiB for every connection).
        return try HubStore(
            writer: DatabasePool(path: path, configuration: ReplicaStore.configuration(cacheMiB: 32, readerCacheMiB: 8)), clock: clock)
    }

    public static func inMemory(clock: @escaping @Sendable () -> Int64 = ReplicaStore.systemClock) throws -> HubStore {
        try HubStore(writer: DatabaseQueue(configuration: ReplicaStore.configuration()), clock: clock)
    }

    /// Copies the hub into a new SQLite file at `path` with SQLite's online backup: a
    /// consistent snapshot while the hub keeps serving (writes wait a moment, reads go on).
    /// Refuses to overwrite a file. Returns the backup's record count and sequence, read
    /// from the copy after checking its integrity.
    public func backup(to path: String) throws -> (records: Int, sequence: UInt64) {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw MufakatError(.invalid, "backup: \(path) exists already; name a new file (a backup never overwrites one)", value: path)
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        do {
            // Readable by its owner only, like the hub's own folder.
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw MufakatError(.invalid, "backup: cannot create \(path) (is its folder writable?)", value: path)
            }
            let copy = try DatabaseQueue(path: path)
            try writer.backup(to: copy)
            return try copy.read { db in
                let check = try String.fetchAll(db, sql: "PRAGMA integrity_check")
                guard check == ["ok"] else {
                    throw MufakatError(.corruption, "backup: the copy at \(path) fails its integrity check: \(check.prefix(3).joined(separator: "; "))")
                }
                let records = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM records") ?? 0
                let sequence = UInt64(try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'seq'") ?? "0") ?? 0
                return (records, sequence)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    /// The hub's own replica id, made once.
    public func hubID() throws -> String {
        try writer.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'hubID'")! }
    }

    /// The hub id and sequence for `welcome`, without blocking a Swift concurrency thread:
    /// the server only uses GRDB's async calls, since a thread blocked on a database
    /// connection can starve the tasks that would release one.
    public func identity() async throws -> (hubID: String, sequence: UInt64) {
        try await writer.read { db in
            (try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'hubID'")!, try Self.sequence(db))
        }
    }

    static func sequence(_ db: Database) throws -> UInt64 {
        UInt64(try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'seq'") ?? "0") ?? 0
    }

    public func digest() throws -> String {
        try writer.read { db in try ReplicaStore.digest(db) }
    }

    /// `PRAGMA synchronous` of the writer connection: 2 (FULL) once opened.
    public func writerSynchronous() throws -> Int {
        try writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    public func integrityCheck() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    /// Every record, for tests and tools.
    public func records() throws -> [ReplicatedRecord] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT collection, id, state FROM records ORDER BY collection, id").map { row in
                ReplicatedRecord(collection: row["collection"], id: row["id"], state: try RecordState(json: row["state"]))
            }
        }
    }
}

/// A token as the hub lists it; the secret itself is never stored.
public struct TokenInfo: Sendable, Hashable {
    public var id: String
    public var org: String
    public var name: String
    public var role: Role
    public var created: Int64
    public var revoked: Int64?
    /// When a replica using it last synced (`nil`: never).
    public var lastUsed: Int64?
}

extension TokenInfo {
    init(_ row: Row) throws {
        let roleName: String = row["role"]
        guard let role = Role(rawValue: roleName) else {
            throw MufakatError(.corruption, "token \(row["id"] as String) has the unknown role '\(roleName)'; the roles are \(Role.names)")
        }
        self.init(id: row["id"], org: row["org"], name: row["name"], role: role, created: row["created"], revoked: row["revoked"])
    }

    /// Who writes with this token.
    public var writer: Writer { Writer(org: org, role: role) }
}

/// A replica that has synced with the hub.
public struct ReplicaInfo: Sendable, Hashable {
    public var replica: String
    public var tokenID: String
    public var name: String
    public var org: String
    public var counter: UInt64
    public var client: String
    public var lastSeen: Int64
    /// How far the hub's feed was served to it.
    public var served: UInt64 = 0
}

extension HubStore {
    /// Issues a token for a person: returns its id (for listing and revoking) and the
    /// secret, which is shown once — only its SHA-256 is stored.
    public func createToken(org: String, name: String, role: Role = .member) throws -> (id: String, secret: String) {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        let secret = "mft_" + String((0..<32).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
        let id = "tok-" + RecordIDs.generated(prefix: "", using: &generator).prefix(8)
        try writer.write { db in
            try db.execute(
                sql: "INSERT INTO tokens (id, org, name, hash, created, role) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, org.lowercased(), name, Self.hash(secret), clock(), role.rawValue])
        }
        return (id, secret)
    }

    public func tokens() throws -> [TokenInfo] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.id, t.org, t.name, t.role, t.created, t.revoked, (SELECT MAX(r.last_seen) FROM replicas r WHERE r.token = t.id) AS lastUsed
                    FROM tokens t ORDER BY t.created, t.id
                    """
            ).map { row in
                var token = try TokenInfo(row)
                token.lastUsed = row["lastUsed"]
                return token
            }
        }
    }

    /// The address replicas reach this hub at (`HOST:PORT`), as the operator gave it to
    /// `serve --public-address` or `token create --hub`; `nil` until then.
    public func publicAddress() throws -> String? {
        try meta("publicAddress")
    }

    public func setPublicAddress(_ address: String) throws {
        try setMeta("publicAddress", address)
    }

    /// A remembered setting of the hub (`serve` writes how it served TLS, for `token create`
    /// and `status`); nil when never set.
    public func setting(_ name: String) throws -> String? {
        try meta("setting." + name)
    }

    public func setSetting(_ name: String, _ value: String?) throws {
        try setMeta("setting." + name, value)
    }

    /// One row of the `meta` table; nil when absent.
    private func meta(_ key: String) throws -> String? {
        try writer.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    /// Sets one row of the `meta` table, or removes it for nil.
    private func setMeta(_ key: String, _ value: String?) throws {
        try writer.write { db in
            if let value {
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, value])
            } else {
                try db.execute(sql: "DELETE FROM meta WHERE key = ?", arguments: [key])
            }
        }
    }

    /// Revokes a token; live sessions using it are refused at their next frame.
    public func revokeToken(id: String) throws {
        try writer.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM tokens WHERE id = ?", arguments: [id]) != nil else {
                throw MufakatError(.notFound, "no token '\(id)'; 'mufakat-hub token list' shows them", value: id)
            }
            try db.execute(sql: "UPDATE tokens SET revoked = COALESCE(revoked, ?) WHERE id = ?", arguments: [clock(), id])
        }
    }

    /// Gives a token another role, for its next write and pull (sessions using it see it from
    /// their next message). Returns the token as it was.
    @discardableResult
    public func setRole(tokenID: String, _ role: Role) throws -> TokenInfo {
        try writer.write { db in
            let token = try Self.token(db, id: tokenID)
            try db.execute(sql: "UPDATE tokens SET role = ? WHERE id = ?", arguments: [role.rawValue, tokenID])
            return token
        }
    }

    /// The token a secret names, if it is known and not revoked.
    public func authenticate(secret: String) async throws -> TokenInfo? {
        try await token(secret: secret).flatMap { $0.revoked == nil ? $0 : nil }
    }

    /// The token whose secret this is, revoked or not (for telling a revoked token from an
    /// unknown one, and logging whose it was).
    public func token(secret: String) async throws -> TokenInfo? {
        try await writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT id, org, name, role, created, revoked FROM tokens WHERE hash = ?",
                arguments: [Self.hash(secret)]
            ).map(TokenInfo.init)
        }
    }

    public func isActive(tokenID: String) async throws -> Bool {
        try await writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT revoked IS NULL FROM tokens WHERE id = ?", arguments: [tokenID]) ?? false
        }
    }

    /// Binds `replica` to the token on first sight and returns what the hub remembers of
    /// it; refuses a replica id already bound to another token.
    public func bind(replica: String, tokenID: String, client: String) async throws -> LedgerEntry {
        try await writer.write { [clock] db in
            let now = clock()
            if let row = try Row.fetchOne(db, sql: "SELECT token, counter FROM replicas WHERE replica = ?", arguments: [replica]) {
                guard row["token"] as String == tokenID else {
                    throw MufakatError(.invalid, "replica \(replica) belongs to another token on this hub; the replica takes a new id and syncs again")
                }
                try db.execute(sql: "UPDATE replicas SET last_seen = ?, client = ? WHERE replica = ?", arguments: [now, client, replica])
            } else {
                try db.execute(
                    sql: "INSERT INTO replicas (replica, token, client, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)",
                    arguments: [replica, tokenID, client, now, now])
            }
            return try Self.ledger(db, replica: replica)
        }
    }

    public func replicas() throws -> [ReplicaInfo] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.replica, r.token, t.name, t.org, COALESCE(l.counter, 0) AS counter, COALESCE(l.served, 0) AS served,
                       r.client, r.last_seen
                FROM replicas r JOIN tokens t ON t.id = r.token LEFT JOIN ledger l ON l.replica = r.replica
                ORDER BY r.last_seen DESC
                """).map { row in
                ReplicaInfo(
                    replica: row["replica"], tokenID: row["token"], name: row["name"], org: row["org"],
                    counter: UInt64(bitPattern: row["counter"] as Int64), client: row["client"], lastSeen: row["last_seen"],
                    served: UInt64(bitPattern: row["served"] as Int64))
            }
        }
    }

    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
