import Foundation
import GRDB
import MufakatCore

/// The tables both stores share, and the SQL views people query.
///
/// `records` holds one row per record: its canonical state (what syncs), its display
/// document as JSON (what `json_extract` and the views read), the deleted and conflicted
/// flags, and `seq` — on a replica the local counter of the last local write (0 for records
/// only ever received), on the hub the hub sequence of the last change. `seq` is indexed:
/// finding what to push or to pull costs what changed, not the size of the store.
///
/// `records` is an ordinary rowid table with a unique index on `(collection, id)`, not a
/// `WITHOUT ROWID` table: rows carry a kilobyte or more of state text, and SQLite's
/// `WITHOUT ROWID` tables are meant for small rows (measured: 477 MB for 100,000 reports).
/// `records_live` lets `status` count live records per collection from the index alone.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-records") { db in
            try db.execute(sql: """
                CREATE TABLE records (
                    collection TEXT NOT NULL,
                    id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    document TEXT NOT NULL,
                    deleted INTEGER NOT NULL DEFAULT 0,
                    conflicted INTEGER NOT NULL DEFAULT 0,
                    seq INTEGER NOT NULL DEFAULT 0,
                    origin TEXT
                );
                CREATE UNIQUE INDEX records_key ON records(collection, id);
                CREATE INDEX records_seq ON records(seq);
                CREATE INDEX records_live ON records(collection, deleted);
                CREATE INDEX records_conflicted ON records(conflicted) WHERE conflicted = 1;
                CREATE TABLE meta (
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v1-views") { db in
            try createViews(db)
        }
        return migrator
    }

    /// The replica's store: the shared tables, and what its sync rules keep.
    ///
    /// - `records.acked`: the counter of the replica's id through which the hub acknowledged
    ///   this record's writes (from accepted pushes only);
    /// - `resend`: records to push again whatever their sequence — refused ones, with the
    ///   hub's code and fields, and ones the hub turned out to lack;
    /// - `journal`: writes taken out of records when the replica took a new id, until they
    ///   are written again under it (see `Incarnation`).
    static var replicaMigrator: DatabaseMigrator {
        var migrator = migrator
        migrator.registerMigration("replica-v2-sync") { db in
            try db.execute(sql: """
                ALTER TABLE records ADD COLUMN acked INTEGER NOT NULL DEFAULT 0;
                CREATE TABLE resend (
                    collection TEXT NOT NULL,
                    id TEXT NOT NULL,
                    code TEXT NOT NULL DEFAULT '',
                    fields TEXT NOT NULL DEFAULT '',
                    at INTEGER NOT NULL,
                    PRIMARY KEY (collection, id)
                ) WITHOUT ROWID;
                CREATE TABLE journal (
                    collection TEXT NOT NULL,
                    id TEXT NOT NULL,
                    base TEXT NOT NULL,
                    entries TEXT NOT NULL,
                    acked INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (collection, id)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("replica-v3-refusal-reason") { db in
            try db.execute(sql: "ALTER TABLE resend ADD COLUMN reason TEXT NOT NULL DEFAULT ''")
        }
        migrator.registerMigration("replica-v4-journal-seen") { db in
            // What a record had seen when its writes were taken, kept apart from the waiting
            // entries (several may wait in one field); '' for journals written before.
            try db.execute(sql: "ALTER TABLE journal ADD COLUMN seen TEXT NOT NULL DEFAULT ''")
        }
        migrator.registerMigration("replica-v5-compact-states") { db in
            try compactStates(db)
        }
        migrator.registerMigration("replica-v6-stance-history") { db in
            try createStanceHistory(db)
        }
        migrator.registerMigration("replica-v7-pending-writes") { db in
            // Protocol 5 (PROTOCOL.md §13): `records.named` is the state as the hub named it
            // (NULL: the hub named nothing of the record yet), `voucher` the hub's voucher for
            // it and `tags` its writes' tags the hub served (§13.5); `records.state` stays what a person sees, the named state with the
            // record's pending writes laid over it. `pending`: each write the hub has not
            // named into the named state yet, in local order, as its write line; `actor` and
            // `counter` once the hub named it, `absorbed` once the named state holds it (kept
            // while a later write of the record names it in `after`), `refused` with the hub's
            // code while refused. `actors`: the highest counter of each actor in any named
            // state, to see at `welcome` whether the hub lost writes this replica holds.
            try db.execute(sql: """
                ALTER TABLE records ADD COLUMN named TEXT;
                ALTER TABLE records ADD COLUMN voucher TEXT;
                ALTER TABLE records ADD COLUMN tags TEXT;
                CREATE TABLE pending (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    wid TEXT NOT NULL UNIQUE,
                    collection TEXT NOT NULL,
                    id TEXT NOT NULL,
                    line TEXT NOT NULL,
                    actor TEXT,
                    counter INTEGER,
                    absorbed INTEGER NOT NULL DEFAULT 0,
                    refused TEXT,
                    reason TEXT NOT NULL DEFAULT '',
                    fields TEXT NOT NULL DEFAULT '',
                    refused_at INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX pending_record ON pending (collection, id, seq);
                CREATE TABLE actors (
                    actor TEXT PRIMARY KEY NOT NULL,
                    counter INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }

    /// `stance_history`: each change of a position's shown stance as this store saw it
    /// (old and new value, and when it was stored), kept by triggers on `records` so every
    /// path that stores a state — a local write, a pulled batch, a push at the hub — notes
    /// it. The monthly brief reads "from" values here; who made a change, and when, come
    /// from the state's own entry.
    static func createStanceHistory(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE stance_history (
                id TEXT NOT NULL,
                old TEXT,
                new TEXT,
                at INTEGER NOT NULL
            );
            CREATE INDEX stance_history_id ON stance_history (id, at);
            CREATE TRIGGER stance_history_insert AFTER INSERT ON records
            WHEN NEW.collection = 'positions' AND json_extract(NEW.document, '$.stance') IS NOT NULL
            BEGIN
                INSERT INTO stance_history (id, old, new, at)
                VALUES (NEW.id, NULL, json_extract(NEW.document, '$.stance'), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
            END;
            CREATE TRIGGER stance_history_update AFTER UPDATE OF document ON records
            WHEN NEW.collection = 'positions'
                AND json_extract(OLD.document, '$.stance') IS NOT json_extract(NEW.document, '$.stance')
            BEGIN
                INSERT INTO stance_history (id, old, new, at)
                VALUES (NEW.id, json_extract(OLD.document, '$.stance'), json_extract(NEW.document, '$.stance'), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
            END;
            """)
    }

    /// Rewrites every stored state in the compact form (protocol version 3, PROTOCOL.md
    /// §6.1), in one transaction (the migration's). Nothing changes in meaning: each state is
    /// decoded, checked as on first storing, and written again, so the digest before and
    /// after is the same. `journal` states (replicas only) are read in either form, and
    /// written compact from now on.
    static func compactStates(_ db: Database) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT rowid, state FROM records")
        let update = try db.makeStatement(sql: "UPDATE records SET state = ? WHERE rowid = ?")
        while let row = try rows.next() {
            try update.execute(arguments: [try RecordState(json: row["state"]).compactJSON, row["rowid"] as Int64])
        }
    }

    /// Migrates the store's file. A file holding data that has migrations to run is first
    /// copied beside itself (`replica.sqlite.before-upgrade`, with SQLite's backup, readable by
    /// its owner only), and the copy is removed once every migration succeeded, then the file
    /// vacuumed; if one fails, the file is as it was (each migration is one transaction) and
    /// the copy stays, named in the error — except when the disk is full, where the copy only
    /// takes the room the next attempt needs. Each attempt makes a fresh copy: one left by an
    /// earlier failed attempt may miss what was written since. Processes opening the file at
    /// once upgrade it one after the other (a `flock` on the file, which SQLite's own locks
    /// leave alone): the second finds nothing left to do.
    static func migrate(_ migrator: DatabaseMigrator, _ writer: any DatabaseWriter) throws {
        func pending() throws -> Bool {
            do {
                return try writer.read { db in try hasPendingMigrations(migrator, db) }
            } catch let error as DatabaseError where isBusy(error) {
                throw busy(writer.path)
            }
        }
        guard writer is DatabasePool, try pending() else {
            try migrator.migrate(writer)
            return
        }
        let path = writer.path
        let lock = open(path, O_RDONLY | O_CLOEXEC)
        if lock >= 0 {
            while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        }
        defer { if lock >= 0 { close(lock) } }
        guard try pending() else { return }
        let megabytes = (((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) + (1 << 20) - 1) >> 20
        let room = "The upgrade needs about twice the file's size free (\(max(1, megabytes * 2)) MB)"
        let copy = path + ".before-upgrade"
        removeStalePartials(of: copy)
        let partial = copy + ".partial-\(getpid())"
        do {
            // Owner-only from the first byte: a hub's file holds token hashes and its key.
            guard FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw MufakatError(.invalid, "cannot create \(partial)")
            }
            let destination = try DatabaseQueue(path: partial)
            try writer.backup(to: destination)
            try destination.close()
            if FileManager.default.fileExists(atPath: copy) { try FileManager.default.removeItem(atPath: copy) }
            try FileManager.default.moveItem(atPath: partial, toPath: copy)
        } catch {
            removePartial(partial)
            if let error = error as? DatabaseError, isBusy(error) { throw busy(path) }
            throw MufakatError(
                .busy,
                "\(path) was written by an older version and must be upgraded, which first copies it beside itself: the copy could not be made (\(Self.describe(error))). The file was not changed. \(room); free some space and run this again")
        }
        do {
            try migrator.migrate(writer)
        } catch let error as DatabaseError where isBusy(error) {
            try? FileManager.default.removeItem(atPath: copy)
            throw busy(path)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            // The transaction rolled back: the file is whole, and the copy would only take
            // the room the next attempt needs.
            try? FileManager.default.removeItem(atPath: copy)
            throw MufakatError(.busy, "upgrading \(path) to this version's format ran out of disk space; the file was not changed. \(room); free some space and run this again")
        } catch {
            throw MufakatError(
                .corruption,
                "upgrading \(path) to this version's format failed (\(Self.describe(error))); the file was not changed, and a copy of it from before the upgrade is at \(copy). \(room)")
        }
        try? FileManager.default.removeItem(atPath: copy)
        // The compact form takes about a third of the space: give the rest back to the disk
        // (it needs room for one more copy while it runs; without it the file keeps its size).
        try? writer.vacuum()
    }

    /// Whether the file was written by an older version: it has migrations left to run
    /// (false for a new, empty file).
    static func hasPendingMigrations(_ migrator: DatabaseMigrator, _ db: Database) throws -> Bool {
        try db.tableExists("grdb_migrations") && !(try migrator.hasCompletedMigrations(db))
    }

    private static func isBusy(_ error: DatabaseError) -> Bool {
        [.SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode)
    }

    private static func busy(_ path: String) -> MufakatError {
        MufakatError(.busy, "another program is writing \(path) (a sync or an import?); nothing was changed. Wait for it to finish and run this again")
    }

    private static func removePartial(_ partial: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
    }

    /// Partial copies left by upgrades that were killed (their process is gone).
    private static func removeStalePartials(of copy: String) {
        let folder = (copy as NSString).deletingLastPathComponent
        let prefix = (copy as NSString).lastPathComponent + ".partial-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? [] where name.hasPrefix(prefix) {
            let pid = name.dropFirst(prefix.count).prefix { $0.isNumber }
            guard let number = Int32(pid), kill(number, 0) != 0, errno == ESRCH else { continue }
            removePartial((folder as NSString).appendingPathComponent(prefix + pid))
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_FULL: return "the disk is full"
            case .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM: return "the folder cannot be written to"
            default: return error.message ?? "\(error.resultCode)"
            }
        }
        if let error = error as? MufakatError { return error.message }
        return (error as NSError).localizedDescription
    }

    /// One view per collection, one column per field, live records only:
    /// `sqlite3 ~/.mufakat/replica.sqlite "SELECT subject, ask, stance FROM positions"`.
    static func createViews(_ db: Database) throws {
        for schema in Catalogue.collections {
            let columns = schema.fields.map { field in
                "json_extract(document, '$.\(field.name)') AS \(field.name.quotedDatabaseIdentifier)"
            }
            try db.execute(sql: "DROP VIEW IF EXISTS \(schema.name.quotedDatabaseIdentifier)")
            try db.execute(sql: """
                CREATE VIEW \(schema.name.quotedDatabaseIdentifier) AS
                SELECT id, \(columns.joined(separator: ", ")), conflicted
                FROM records WHERE collection = '\(schema.name)' AND deleted = 0
                """)
        }
    }
}
