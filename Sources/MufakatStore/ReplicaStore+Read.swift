import GRDB
import MufakatCore

/// One record as a person sees it.
public struct RecordView: Sendable, Hashable {
    public var collection: String
    public var id: String
    public var document: [String: FieldValue]
    public var deleted: Bool
    public var conflicts: [FieldConflict]
}

/// Where a replica stands.
public struct ReplicaStatus: Sendable, Hashable {
    public var metadata: ReplicaMetadata
    /// Records written locally and not yet acknowledged by the hub.
    public var pendingChanges: Int
    public var conflictedRecords: Int
    /// Live (not deleted) records per collection, in catalogue order.
    public var records: [CollectionCount]
    /// Records the hub refused (or lacks), kept here and sent again at each sync.
    public var rejections: [PendingRejection]

    public struct CollectionCount: Sendable, Hashable {
        public var collection: String
        public var count: Int
    }
}

extension ReplicaStore {
    /// One record, deleted ones included (with their conflicts, if an edit raced the delete).
    public func get(_ collection: String, id: String) throws -> RecordView {
        let schema = try Catalogue.collection(named: collection)
        return try writer.read { db in
            guard let state = try db.fetchState(collection: schema.name, id: id) else {
                throw MufakatError(.notFound, "get \(schema.name) \(id): no such record on this replica", value: id)
            }
            return RecordView(
                collection: schema.name, id: id, document: state.document, deleted: state.isDeleted, conflicts: state.conflicts)
        }
    }

    /// The replicated state of one record, `nil` when this replica does not hold it: every
    /// write it holds, with author and time (what `history` shows offline).
    public func state(_ collection: String, id: String) throws -> RecordState? {
        let schema = try Catalogue.collection(named: collection)
        return try writer.read { db in try db.fetchState(collection: schema.name, id: id) }
    }

    /// Live records of a collection, ordered by id, optionally filtered.
    ///
    /// Each filter is `field=value` with the value typed as for `put` (so `stance=activesupport`
    /// matches `ActiveSupport`); a list field matches when it contains the value.
    public func list(_ collection: String, where filters: [(field: String, value: String)] = [], conflictsOnly: Bool = false) throws -> [RecordView] {
        let schema = try Catalogue.collection(named: collection)
        var clauses = ["collection = ?", "deleted = 0"]
        var arguments: [any DatabaseValueConvertible] = [schema.name]
        var problems: [ValidationProblem] = []
        for (name, raw) in filters {
            guard let spec = schema.field(named: name) else {
                problems.append(ValidationProblem(field: name, "unknown field; the fields of \(schema.name) are \(schema.fieldNames.joined(separator: ", "))"))
                continue
            }
            switch spec.type.parse(raw) {
            case .failure(let failure):
                problems.append(ValidationProblem(field: name, failure.message(for: raw)))
            case .success(.null):
                clauses.append("json_extract(document, '$.\(name)') IS NULL")
            case .success(.list(let items)):
                for item in items {
                    clauses.append("EXISTS (SELECT 1 FROM json_each(document, '$.\(name)') WHERE value = ?)")
                    arguments.append(item)
                }
            case .success(.integer(let number)):
                clauses.append("json_extract(document, '$.\(name)') = ?")
                arguments.append(number)
            case .success(let value):
                clauses.append("json_extract(document, '$.\(name)') = ?")
                arguments.append(value.text)
            }
        }
        if !problems.isEmpty { throw MufakatError(problems: problems, context: "list \(schema.name): bad --where") }
        if conflictsOnly { clauses.append("conflicted = 1") }
        return try writer.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, state FROM records WHERE \(clauses.joined(separator: " AND ")) ORDER BY id",
                arguments: StatementArguments(arguments))
            var result: [RecordView] = []
            while let row = try rows.next() {
                let state = try RecordState(json: row["state"])
                result.append(RecordView(
                    collection: schema.name, id: row["id"], document: state.document, deleted: false,
                    conflicts: state.conflicts))
            }
            return result
        }
    }

    /// Every conflicted record, deleted ones included, by collection and id.
    public func conflicts() throws -> [RecordView] {
        try writer.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT collection, id, state FROM records WHERE conflicted = 1 ORDER BY collection, id")
            return try rows.map { row in
                let state = try RecordState(json: row["state"])
                return RecordView(
                    collection: row["collection"], id: row["id"], document: state.document, deleted: state.isDeleted,
                    conflicts: state.conflicts)
            }
        }
    }

    /// How many records are conflicted (deleted ones included).
    public func conflictCount() throws -> Int {
        try writer.read { db in try Self.conflictCount(db) }
    }

    static func conflictCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM records WHERE conflicted = 1") ?? 0
    }

    /// Records written here after the last acknowledged push.
    static func pendingCount(_ db: Database, after pushedThrough: UInt64) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM records WHERE seq > ?", arguments: [Int64(bitPattern: pushedThrough)]) ?? 0
    }

    public func status() throws -> ReplicaStatus {
        try writer.read { db in
            let metadata = try Self.requireMetadata(db)
            let rejections = try Self.pendingRejections(db)
            let pending = try Self.totalPending(db)
            let conflicted = try Self.conflictCount(db)
            // Served from the records_live index.
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT collection, COUNT(*) AS n FROM records WHERE deleted = 0 GROUP BY collection") {
                counts[row["collection"]] = row["n"]
            }
            return ReplicaStatus(
                metadata: metadata, pendingChanges: pending, conflictedRecords: conflicted,
                records: Catalogue.collectionNames.map { .init(collection: $0, count: counts[$0] ?? 0) }, rejections: rejections)
        }
    }

    /// The store digest: SHA-256 over every record's canonical line in (collection, id)
    /// order. Equal digests mean identical data.
    public func digest() throws -> String {
        try writer.read { db in try Self.digest(db) }
    }

    /// The digest of the records `filter` (an SQL condition on `records`) selects; all of
    /// them when it is empty.
    static func digest(_ db: Database, where filter: String = "", arguments: StatementArguments = []) throws -> String {
        var digest = StoreDigest()
        // SQLite's BINARY collation compares UTF-8 bytes: the order the digest requires.
        let condition = filter.isEmpty ? "" : "WHERE \(filter) "
        let rows = try Row.fetchCursor(
            db, sql: "SELECT collection, id, state FROM records \(condition)ORDER BY collection, id", arguments: arguments)
        while let row = try rows.next() {
            try digest.add(collection: row["collection"], id: row["id"], stateJSON: row["state"])
        }
        return digest.hexString
    }
}

/// What a view of the data may read: a store's records, as far as its reader may see them.
public struct ViewScope: Sendable {
    /// An SQL condition on `records` (alias `r`), empty for every record.
    public var condition: String
    public var arguments: StatementArguments

    public init(condition: String = "", arguments: StatementArguments = []) {
        self.condition = condition
        self.arguments = arguments
    }

    /// `AND (condition)`, or nothing.
    public var and: String { condition.isEmpty ? "" : " AND (\(condition))" }
}

extension ReplicaStore {
    /// Reads the replica's data for a view (the brief, exports): every record it holds.
    public func view<T>(_ body: (Database, ViewScope) throws -> T) throws -> T {
        try writer.read { db in try body(db, ViewScope()) }
    }
}
