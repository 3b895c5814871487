import GRDB
import MufakatCore

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
                collection, id, state.canonicalJSON, CanonicalJSON.document(state.document),
                state.isDeleted, state.isConflicted, Int64(bitPattern: seq), origin,
            ])
    }

    /// The writes of a record waiting in the journal, as a state whose context is what the
    /// record had seen when they were taken; `nil` when none wait.
    func journalEntries(collection: String, id: String) throws -> RecordState? {
        let statement = try cachedStatement(sql: "SELECT entries FROM journal WHERE collection = ? AND id = ?")
        guard let json = try String.fetchOne(statement, arguments: [collection, id]) else { return nil }
        return try RecordState(json: json)
    }

    func recordExists(collection: String, id: String) throws -> Bool {
        let statement = try cachedStatement(sql: "SELECT deleted = 0 FROM records WHERE collection = ? AND id = ?")
        return try Bool.fetchOne(statement, arguments: [collection, id]) ?? false
    }
}
