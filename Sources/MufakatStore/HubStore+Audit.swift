import CSV
import Foundation
import GRDB
import MufakatCore

/// Which records a reader may receive: everything for a coordinator (or a tool of the
/// operator's), else published records and those kept in-house by its own organisation.
public struct Visibility: Hashable, Sendable {
    /// `nil`: every record.
    public var org: String?

    public static let everything = Visibility(org: nil)

    public init(org: String?) {
        self.org = org?.lowercased()
    }

    public init(_ writer: Writer) {
        self.init(org: writer.role.seesEveryOrganisation ? nil : writer.org)
    }

    /// Whether a record kept in-house by `inHouse` (`nil`: published) may be received.
    public func admits(_ inHouse: String?) -> Bool {
        guard let org, let inHouse else { return true }
        return inHouse == org
    }
}

/// What `mufakat-hub audit verify` found.
public struct AuditVerification: Sendable, Hashable {
    /// Entries checked.
    public var entries: Int
    /// The first entry number held (earlier ones were removed by the retention setting).
    public var first: Int64
    /// The last entry as `number:hash`: note it, and give it to a later verify
    /// (`--expect`), which then finds the log cut or rewritten after it.
    public var head: String
    /// Every break found, in log order; empty when the chain holds.
    public var problems: [String]
    /// When the retention setting last removed old entries, if ever.
    public var prunedBefore: Int64?
}

/// What `audit` lists: all when a member is `nil`.
public struct AuditFilter: Sendable, Hashable {
    public var org: String?
    public var since: Int64?
    public var collection: String?
    public var id: String?
    public var limit: Int?

    public init(org: String? = nil, since: Int64? = nil, collection: String? = nil, id: String? = nil, limit: Int? = nil) {
        self.org = org?.lowercased()
        self.since = since
        self.collection = collection
        self.id = id
        self.limit = limit
    }
}

extension HubStore {
    /// The token `replica` is bound to, `nil` for one never bound (only tools and tests
    /// push without a session).
    static func token(_ db: Database, replica: String) throws -> TokenInfo? {
        try Row.fetchOne(
            db, cached: "SELECT t.id, t.org, t.name, t.role, t.created, t.revoked FROM replicas r JOIN tokens t ON t.id = r.token WHERE r.replica = ?",
            arguments: [replica]
        ).map(TokenInfo.init)
    }

    /// The `type` candidates of organisation `id` as the hub holds it.
    static func organizationTypes(_ db: Database, _ id: String) throws -> [String] {
        try db.fetchState(collection: "organizations", id: id)?.strings(of: "type") ?? []
    }

    /// Appends the audit entry of one stored change, chained to the last entry.
    static func appendAudit(
        _ db: Database, seq: UInt64, token: TokenInfo?, replica: String, collection: String, id: String, inHouse: String?,
        inHouseBefore: String?, before: RecordState?, after: RecordState, time: Int64
    ) throws {
        let last = try Row.fetchOne(db, cached: "SELECT entry, hash FROM audit_log ORDER BY entry DESC LIMIT 1")
        let seen = before?.context ?? VersionVector()
        let dots = Set(after.fields.values.joined().map(\.dot).filter { !seen.contains($0) }).sorted().map(\.description)
        var changes = AuditEntry.changes(from: before, to: after)
        if inHouseBefore != nil, inHouse == nil, let before {
            // The change that publishes a draft lists every field, those it left as they were
            // too (old = new): a reader of another organisation sees the record as published,
            // never the draft's values before it (see `history`).
            for name in after.fields.keys where changes[name] == nil && name != RecordState.deletedField {
                guard let value = after.displayValue(of: name)?.text, before.displayValue(of: name)?.text == value else { continue }
                changes[name] = AuditEntry.Change(old: value, new: value)
            }
        }
        try appendAudit(db, AuditEntry(
            entry: ((last?["entry"] as Int64?) ?? 0) + 1, seq: seq, time: time, token: token?.id ?? "-", name: token?.name ?? "-",
            org: token?.org ?? "-", role: token?.role.rawValue ?? "-", replica: replica, collection: collection, id: id,
            inHouse: inHouse, inHouseBefore: inHouseBefore, dots: dots, changes: changes,
            prev: (last?["hash"] as String?) ?? ""))
    }

    /// Inserts `entry` as it is (its number, `prev` and hash already set).
    static func appendAudit(_ db: Database, _ entry: AuditEntry) throws {
        let changes = String(decoding: try JSONEncoder.sorted.encode(entry.changes), as: UTF8.self)
        let dotsText = String(decoding: try JSONEncoder.sorted.encode(entry.dots), as: UTF8.self)
        try db.execute(
            cached: """
                INSERT INTO audit_log (entry, seq, time, token, name, org, role, replica, collection, id, inhouse, inhouse_before,
                    dots, changes, kind, through, through_hash, prev, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                entry.entry, Int64(bitPattern: entry.seq), entry.time, entry.token, entry.name, entry.org, entry.role, entry.replica,
                entry.collection, entry.id, entry.inHouse, entry.inHouseBefore, dotsText, changes, entry.kind, entry.through,
                entry.throughHash, entry.prev, entry.hash,
            ])
    }

    static func auditEntry(_ row: Row) throws -> AuditEntry {
        let decoder = JSONDecoder()
        var entry = AuditEntry(
            entry: row["entry"], seq: UInt64(bitPattern: row["seq"] as Int64), time: row["time"], token: row["token"],
            name: row["name"], org: row["org"], role: row["role"], replica: row["replica"], collection: row["collection"],
            id: row["id"], inHouse: row["inhouse"], inHouseBefore: row["inhouse_before"],
            dots: (try? decoder.decode([String].self, from: Data((row["dots"] as String).utf8))) ?? ["(unreadable)"],
            changes: (try? decoder.decode([String: AuditEntry.Change].self, from: Data((row["changes"] as String).utf8)))
                ?? ["(unreadable)": .init(old: nil, new: nil)],
            prev: row["prev"], kind: row["kind"], through: row["through"], throughHash: row["through_hash"])
        entry.hash = row["hash"]
        return entry
    }

    /// Audit entries, oldest first, as `filter` selects (the log's own `start` and
    /// `pruned` entries too, unless a collection or record is asked for).
    public func auditEntries(_ filter: AuditFilter = AuditFilter()) throws -> [AuditEntry] {
        try writer.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let org = filter.org { conditions.append("lower(org) = ?"); arguments.append(org) }
            if let since = filter.since { conditions.append("time >= ?"); arguments.append(since) }
            if let collection = filter.collection { conditions.append("collection = ?"); arguments.append(collection) }
            if let id = filter.id { conditions.append("id = ?"); arguments.append(id) }
            var sql = "SELECT * FROM audit_log"
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            if let limit = filter.limit {
                // The last `limit`, still oldest first.
                sql = "SELECT * FROM (\(sql) ORDER BY entry DESC LIMIT \(limit)) ORDER BY entry"
            } else {
                sql += " ORDER BY entry"
            }
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(Self.auditEntry)
        }
    }

    /// Walks the whole log: each entry's hash must be what its contents give, each `prev`
    /// the hash before it, numbers without gaps; the first entry held is the log's `start`,
    /// or the one after what the latest `pruned` entry says was removed; and every record
    /// changed since then has an entry at its current sequence (a line deleted from the end
    /// leaves a record without one). With `expect` (`entry:hash`, as an earlier verify
    /// printed the head), that entry must still be there with that hash.
    public func verifyAudit(expect: (entry: Int64, hash: String)? = nil) throws -> AuditVerification {
        try writer.read { db in
            var problems: [String] = []
            let entries = try Row.fetchAll(db, cached: "SELECT * FROM audit_log ORDER BY entry").map(Self.auditEntry)
            let prune = entries.last { $0.kind == "pruned" }
            let start = entries.first { $0.kind == "start" }
            var expectedNumber = (prune?.through ?? 0) + 1
            var expectedPrev = prune?.throughHash ?? ""
            if entries.isEmpty {
                problems.append("the log is empty: even its start entry is gone")
            } else if prune == nil, start?.entry != 1 {
                problems.append("the log's start entry is missing (entries were removed from its beginning)")
            }
            for entry in entries {
                if entry.entry != expectedNumber {
                    problems.append(entry.entry > expectedNumber
                        ? "entries \(expectedNumber)–\(entry.entry - 1) are missing (the next held is \(entry.entry))"
                        : "entry \(entry.entry) is out of order (expected \(expectedNumber))")
                }
                if entry.prev != expectedPrev {
                    problems.append("entry \(entry.entry): its 'prev' is not the hash of the entry before it (a line was removed, inserted or rewritten)")
                }
                if entry.computedHash != entry.hash {
                    problems.append("entry \(entry.entry): its contents do not give its hash (the line was edited)")
                }
                expectedPrev = entry.hash
                expectedNumber = entry.entry + 1
            }
            // A noted entry must still be there: a `pruned` entry is itself only a line anyone
            // able to write the file could add, so a removal it claims is reported too.
            if let expect {
                if let held = entries.first(where: { $0.entry == expect.entry }) {
                    if held.hash != expect.hash {
                        problems.append("entry \(expect.entry) no longer has the hash \(expect.hash) you noted: the log was rewritten")
                    }
                } else if expect.entry >= expectedNumber {
                    problems.append("entry \(expect.entry), which you noted, is gone: the log ends at \(expectedNumber - 1) (lines were removed from its end)")
                } else if let prune, expect.entry <= prune.through ?? 0 {
                    problems.append("entry \(expect.entry), which you noted, is gone: a 'pruned' entry says retention removed entries through \(prune.through ?? 0) on \(Self.day(prune.time)); if the hub runs with --audit-retention-days and that entry was older than that, note a newer head, else the log was cut")
                } else {
                    problems.append("entry \(expect.entry), which you noted, is missing")
                }
            }
            let from = Int64(bitPattern: prune?.seq ?? start?.seq ?? 1)
            let unlogged = try Row.fetchAll(
                db,
                cached: """
                    SELECT r.collection, r.id, r.seq FROM records r
                    WHERE r.seq >= ? AND NOT EXISTS (
                        SELECT 1 FROM audit_log a WHERE a.seq = r.seq AND a.collection = r.collection AND a.id = r.id)
                    ORDER BY r.seq LIMIT 6
                    """, arguments: [from])
            for row in unlogged.prefix(5) {
                problems.append("\(row["collection"] as String) \(row["id"] as String) changed at hub sequence \(row["seq"] as Int64) and the log has no entry for it (lines were removed)")
            }
            if unlogged.count > 5 { problems.append("… and more records without an entry") }
            return AuditVerification(
                entries: entries.count, first: entries.first?.entry ?? 0, head: entries.last.map { "\($0.entry):\($0.hash)" } ?? "",
                problems: problems, prunedBefore: prune?.time)
        }
    }

    /// Removes change entries older than `cutoff` (milliseconds since 1970), then appends a
    /// `pruned` entry recording what went — the last removed entry's number and hash, and
    /// from which hub sequence the log still holds every change — so the chain stays
    /// checkable from the first entry kept. Returns how many were removed.
    @discardableResult
    public func pruneAudit(before cutoff: Int64) throws -> Int {
        try writer.write { [clock] db in
            // Only when a change entry is old enough: removing the log's own entries alone
            // would move its start for nothing.
            guard let last = try Row.fetchOne(
                db, cached: "SELECT entry, hash FROM audit_log WHERE time < ? AND kind IS NULL ORDER BY entry DESC LIMIT 1", arguments: [cutoff])
            else { return 0 }
            let through: Int64 = last["entry"]
            let removed = try Int.fetchOne(db, cached: "SELECT COUNT(*) FROM audit_log WHERE entry <= ?", arguments: [through]) ?? 0
            let maxSeq = try Int64.fetchOne(db, cached: "SELECT MAX(seq) FROM audit_log WHERE entry <= ? AND kind IS NULL", arguments: [through]) ?? 0
            let head = try Row.fetchOne(db, cached: "SELECT entry, hash FROM audit_log ORDER BY entry DESC LIMIT 1")!
            // The start moves to just after the last change removed, never before an earlier start.
            let earlier = try Row.fetchAll(db, cached: "SELECT * FROM audit_log WHERE entry <= ? AND kind IS NOT NULL", arguments: [through])
                .map(Self.auditEntry)
            let from = max(UInt64(bitPattern: maxSeq) + 1, earlier.map(\.seq).max() ?? 0)
            try db.execute(cached: "DELETE FROM audit_log WHERE entry <= ?", arguments: [through])
            try Self.appendAudit(db, AuditEntry(
                entry: (head["entry"] as Int64) + 1, seq: from, time: clock(), token: "-", name: "-", org: "-", role: "-", replica: "-",
                collection: "", id: "", inHouse: nil, dots: [], changes: [:], prev: head["hash"], kind: "pruned", through: through,
                throughHash: last["hash"]))
            return removed
        }
    }

    /// A record's history for a reader: `nil` when the reader may not receive the record
    /// (or the hub never held it); else its audit entries, oldest first, leaving out those
    /// stored while it stayed in-house with another organisation.
    public func history(
        collection: String, id: String, for visibility: Visibility, limit: Int = 200
    ) async throws -> (entries: [AuditEntry], omitted: Int)? {
        try await writer.read { db in
            guard let row = try Row.fetchOne(
                db, cached: "SELECT inhouse FROM records WHERE collection = ? AND id = ?", arguments: [collection, id]),
                visibility.admits(row["inhouse"])
            else { return nil }
            let total = try Int.fetchOne(
                db, cached: "SELECT COUNT(*) FROM audit_log WHERE collection = ? AND id = ?", arguments: [collection, id]) ?? 0
            let rows = try Row.fetchAll(
                db, cached: "SELECT * FROM (SELECT * FROM audit_log WHERE collection = ? AND id = ? ORDER BY entry DESC LIMIT ?) ORDER BY entry",
                arguments: [collection, id, limit])
            // Changes stored while the record stayed with another organisation are left out;
            // the one that published it shows no values from before.
            // Its hash too: computed over the withheld values, it would let a reader test guesses.
            let entries = try rows.map(Self.auditEntry).filter { visibility.admits($0.inHouse) }.map { entry in
                guard !visibility.admits(entry.inHouseBefore) else { return entry }
                var published = entry
                for field in published.changes.keys { published.changes[field]?.old = nil }
                published.prev = ""
                published.hash = ""
                return published
            }
            return (entries, total - entries.count)
        }
    }

    static func day(_ milliseconds: Int64) -> String {
        String(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000)).prefix(10))
    }

    /// The digest of the records `visibility` admits: what a replica of that reader holds
    /// once in sync.
    public func digest(for visibility: Visibility) throws -> String {
        try writer.read { db in
            guard let org = visibility.org else { return try ReplicaStore.digest(db) }
            return try ReplicaStore.digest(db, where: "inhouse IS NULL OR inhouse = ?", arguments: [org])
        }
    }

    /// The token with id `tokenID`.
    public func token(id tokenID: String) throws -> TokenInfo {
        try writer.read { db in try Self.token(db, id: tokenID) }
    }

    public func token(id tokenID: String) async throws -> TokenInfo {
        try await writer.read { db in try Self.token(db, id: tokenID) }
    }

    static func token(_ db: Database, id tokenID: String) throws -> TokenInfo {
        guard let row = try Row.fetchOne(db, cached: "SELECT id, org, name, role, created, revoked FROM tokens WHERE id = ?", arguments: [tokenID]) else {
            throw MufakatError(.notFound, "no token '\(tokenID)'; 'mufakat-hub token list' shows them", value: tokenID)
        }
        return try TokenInfo(row)
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension AuditEntry {
    /// Entries as CSV, one row per changed field (an entry that changed three fields gives
    /// three rows with the same `entry`): what an auditor opens in a spreadsheet.
    public static func csv(_ entries: [AuditEntry]) throws -> String {
        let stream = OutputStream.toMemory()
        let writer = try CSVWriter(stream: stream)
        try writer.write(row: [
            "entry", "seq", "time", "token", "name", "org", "role", "replica", "collection", "id", "in_house", "dots",
            "field", "old", "new", "conflict", "resolved", "hash",
        ])
        for entry in entries {
            let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(entry.time) / 1000))
            let head = [
                String(entry.entry), String(entry.seq), time, entry.token, entry.name, entry.org, entry.role, entry.replica,
                entry.collection, entry.id, entry.inHouse ?? "", entry.dots.joined(separator: " "),
            ]
            // Values typed by members may start like formulas: defused (``CSVCell``).
            if entry.changes.isEmpty {
                try writer.write(row: (head + [entry.kind ?? "", "", "", "", "", entry.hash]).map(CSVCell.defused))
            }
            for (field, change) in entry.changes.sorted(by: { $0.key < $1.key }) {
                try writer.write(row: (head + [
                    field, change.old ?? "", change.new ?? "", change.conflict == true ? "yes" : "", change.resolved == true ? "yes" : "",
                    entry.hash,
                ]).map(CSVCell.defused))
            }
        }
        stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

extension HubStore {
    /// Reads the hub's data for a view (the dashboard, its brief), as far as `visibility`
    /// lets its reader see.
    public func view<T>(for visibility: Visibility, _ body: (Database, ViewScope) throws -> T) throws -> T {
        try writer.read { db in try body(db, Self.scope(visibility)) }
    }

    /// The same, without holding a Swift concurrency thread while SQLite works (the
    /// dashboard's pages: a large figures table must not stall the hub's sessions).
    public func view<T: Sendable>(for visibility: Visibility, _ body: @escaping @Sendable (Database, ViewScope) throws -> T) async throws -> T {
        try await writer.read { db in try body(db, Self.scope(visibility)) }
    }

    static func scope(_ visibility: Visibility) -> ViewScope {
        visibility.org.map { ViewScope(condition: "r.inhouse IS NULL OR r.inhouse = ?", arguments: [$0]) } ?? ViewScope()
    }
}

extension HubStore {
    /// A one-time sign-in link code for the dashboard, for `tokenID`, good for `lifetime`
    /// milliseconds: only its SHA-256 is kept, and the first use spends it.
    public func createDashboardLink(tokenID: String, lifetime: Int64) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        let code = String((0..<32).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
        try writer.write { [clock] db in
            let token = try Self.token(db, id: tokenID)
            guard token.revoked == nil else {
                throw MufakatError(.invalid, "token \(tokenID) is revoked; a sign-in link needs an active token", value: tokenID)
            }
            try db.execute(cached: "DELETE FROM dashboard_links WHERE expires < ?", arguments: [clock()])
            try db.execute(
                cached: "INSERT INTO dashboard_links (hash, token, expires) VALUES (?, ?, ?)",
                arguments: [Self.hash(code), tokenID, clock() + lifetime])
        }
        return code
    }

    /// Spends a sign-in link code: the active token it signs in as, or `nil` when the code is
    /// unknown, used or expired.
    public func redeemDashboardLink(_ code: String) async throws -> TokenInfo? {
        try await writer.write { [clock] db in
            let hash = Self.hash(code)
            guard let row = try Row.fetchOne(db, cached: "SELECT token, expires FROM dashboard_links WHERE hash = ?", arguments: [hash]) else {
                return nil
            }
            try db.execute(cached: "DELETE FROM dashboard_links WHERE hash = ?", arguments: [hash])
            guard (row["expires"] as Int64) >= clock() else { return nil }
            let token = try Self.token(db, id: row["token"])
            return token.revoked == nil ? token : nil
        }
    }

    /// The hub's sequence now.
    public func sequence() throws -> UInt64 {
        try writer.read { db in try Self.sequence(db) }
    }
}
