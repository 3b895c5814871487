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
                collection, id, state.canonicalJSON, CanonicalJSON.document(state.document),
                state.isDeleted, state.isConflicted, Int64(bitPattern: seq), origin,
            ])
    }

    /// Notes, in the hub's dot index, the record of every entry of `state` not in
    /// `previous` (a dot already noted keeps its first record) that `including` admits.
    func indexDots(
        of state: RecordState, previous: RecordState? = nil, collection: String, id: String,
        including: (Dot) throws -> Bool = { _ in true }
    ) throws {
        let held = Set(previous?.fields.values.flatMap { $0.map(\.dot) } ?? [])
        var dots: Set<Dot> = []
        for entries in state.fields.values {
            for entry in entries where !held.contains(entry.dot) && !dots.contains(entry.dot) {
                if try including(entry.dot) { dots.insert(entry.dot) }
            }
        }
        guard !dots.isEmpty else { return }
        let statement = try cachedStatement(sql: "INSERT OR IGNORE INTO dots (replica, counter, collection, id) VALUES (?, ?, ?, ?)")
        for dot in dots {
            try statement.execute(arguments: [dot.replica.rawValue, Int64(bitPattern: min(dot.counter, Counters.maxCounter)), collection, id])
        }
    }

    /// The records the hub's dot index names for the entries of `state` not in `stored`
    /// (the only ones ``PushRules`` asks about).
    func dotOwners(of state: RecordState, stored: RecordState?) throws -> [Dot: RecordKey] {
        let held = Set(stored?.fields.values.flatMap { $0.map(\.dot) } ?? [])
        var owners: [Dot: RecordKey] = [:]
        var asked: Set<Dot> = []
        let statement = try cachedStatement(sql: "SELECT collection, id FROM dots WHERE replica = ? AND counter = ?")
        for entries in state.fields.values {
            for entry in entries where !held.contains(entry.dot) && asked.insert(entry.dot).inserted {
                guard entry.dot.counter <= Counters.maxCounter,
                    let row = try Row.fetchOne(statement, arguments: [entry.dot.replica.rawValue, Int64(entry.dot.counter)])
                else { continue }
                owners[entry.dot] = RecordKey(collection: row["collection"], id: row["id"])
            }
        }
        return owners
    }

    func recordExists(collection: String, id: String) throws -> Bool {
        let statement = try cachedStatement(sql: "SELECT deleted = 0 FROM records WHERE collection = ? AND id = ?")
        return try Bool.fetchOne(statement, arguments: [collection, id]) ?? false
    }
}
