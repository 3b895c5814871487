import GRDB
import MufakatCore
import MufakatSync

extension Database {
    /// The stored state of one record, `nil` when the store has never heard of it.
    func fetchState(collection: String, id: String) throws -> RecordState? {
        let statement = try cachedStatement(sql: "SELECT state FROM records WHERE collection = ? AND id = ?")
        guard let json = try String.fetchOne(statement, arguments: [collection, id]) else { return nil }
        return try RecordState(json: json)
    }

    /// Inserts or replaces a record, deriving the document and flags from its state.
    func saveRecord(collection: String, id: String, state: RecordState, seq: UInt64, origin: String? = nil) throws {
        let statement = try cachedStatement(sql: """
            INSERT INTO records (collection, id, state, document, deleted, conflicted, seq, origin)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (collection, id) DO UPDATE SET
                state = excluded.state, document = excluded.document, deleted = excluded.deleted,
                conflicted = excluded.conflicted, seq = excluded.seq, origin = excluded.origin
            """)
        try statement.execute(
            arguments: [
                collection, id, state.compactJSON, CanonicalJSON.document(state.document),
                state.isDeleted, state.isConflicted, Int64(bitPattern: seq), origin,
            ])
    }

    /// Notes, in the hub's dot index, the record of every entry of `state` not in
    /// `previous` (a dot already noted keeps its first record) that `including` admits.
    func indexDots(
        of state: RecordState, previous: RecordState? = nil, collection: String, id: String,
        including: (Dot) throws -> Bool = { _ in true }
    ) throws {
        let dots = try state.dots(notHeldBy: previous).filter(including)
        guard !dots.isEmpty else { return }
        let statement = try cachedStatement(sql: "INSERT OR IGNORE INTO dots (replica, counter, collection, id) VALUES (?, ?, ?, ?)")
        for dot in dots {
            try statement.execute(arguments: [dot.replica.rawValue, Int64(bitPattern: min(dot.counter, Counters.maxCounter)), collection, id])
        }
    }

    /// The records the hub's dot index names for the entries of `state` not in `stored`
    /// (the only ones ``PushRules`` asks about).
    func dotOwners(of state: RecordState, stored: RecordState?) throws -> [Dot: RecordKey] {
        var owners: [Dot: RecordKey] = [:]
        let statement = try cachedStatement(sql: "SELECT collection, id FROM dots WHERE replica = ? AND counter = ?")
        for dot in state.dots(notHeldBy: stored) where dot.counter <= Counters.maxCounter {
            guard let row = try Row.fetchOne(statement, arguments: [dot.replica.rawValue, Int64(dot.counter)]) else { continue }
            owners[dot] = RecordKey(collection: row["collection"], id: row["id"])
        }
        return owners
    }

    func recordExists(collection: String, id: String) throws -> Bool {
        let statement = try cachedStatement(sql: "SELECT deleted = 0 FROM records WHERE collection = ? AND id = ?")
        return try Bool.fetchOne(statement, arguments: [collection, id]) ?? false
    }
}

/// One SQL statement run or fetched through the connection's statement cache: a hot path
/// (a push, a pull, a put) compiles each statement once per connection, not once per call.
/// For single statements only; migrations and scripts keep `execute(sql:)`.
extension Database {
    func execute(cached sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}

extension Row {
    static func fetchAll(_ db: Database, cached sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func fetchOne(_ db: Database, cached sql: String, arguments: StatementArguments = StatementArguments()) throws -> Row? {
        try fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }
}

extension DatabaseValueConvertible where Self: StatementColumnConvertible {
    static func fetchAll(_ db: Database, cached sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Self] {
        try fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func fetchOne(_ db: Database, cached sql: String, arguments: StatementArguments = StatementArguments()) throws -> Self? {
        try fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }
}
