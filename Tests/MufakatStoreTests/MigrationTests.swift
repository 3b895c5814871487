import Foundation
import Synchronization
import GRDB
import MufakatCore
import MufakatTesting
import Testing
@testable import MufakatStore

/// Files written by mufakat 0.5.0 (`Fixtures/0.5.0`, made by `scripts/make-format-fixtures.sh`
/// with that release's binaries): two replicas, a merge, a conflict and a delete, synced.
@Suite("Store files of 0.5.0 migrate in place to the compact form")
struct MigrationTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/0.5.0")

    static func copy(_ name: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent(name).path, toPath: path)
    }

    static var digest: String {
        get throws {
            try String(contentsOf: fixtures.appendingPathComponent("digest.txt"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Every stored state's text, by collection and id, read with plain SQLite.
    static func states(_ path: String) throws -> [String: String] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT collection, id, state FROM records").map {
                ("\($0["collection"] as String)/\($0["id"] as String)", $0["state"] as String)
            })
        }
    }

    @Test("a replica file of 0.5.0 opens with the same data and digest, its states compact, no copy left")
    func replica() throws {
        let directory = try TemporaryDirectory("mufakat-migrate")
        let path = directory.path("replica.sqlite")
        try Self.copy("replica.sqlite", to: path)
        let before = try Self.states(path)
        #expect(before.count == 6 && before.values.allSatisfy { !$0.contains(#""dots":"#) })

        let store = try ReplicaStore.open(at: path)
        #expect(try store.digest() == Self.digest)
        let after = try Self.states(path)
        #expect(after.keys == before.keys)
        for (key, text) in after {
            // Compact now, and the same state as before, entry for entry.
            #expect(text.contains(#""dots":"#), "\(key)")
            #expect(try RecordState(json: text) == (try RecordState(json: before[key]!)), "\(key)")
            #expect(text.utf8.count < before[key]!.utf8.count, "\(key)")
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".before-upgrade"))
        #expect(try store.conflictCount() == 1)
        #expect(try store.get("asks", id: "ask-shelter").deleted)
        // It goes on working: a write lands beside the migrated states.
        try store.put("positions", id: "kemnaker:ask-budget", [("stance", "PassiveSupport")])
        #expect(try store.conflictCount() == 0)
        // Opening again runs nothing and changes nothing.
        let digest = try store.digest()
        #expect(try ReplicaStore.open(at: path).digest() == digest)
    }

    @Test("a hub file of 0.5.0 opens with the same digest; a version 2 client is served the very lines 0.5.0 served")
    func hub() async throws {
        let directory = try TemporaryDirectory("mufakat-migrate")
        let folder = directory.path("hub")
        try Self.copy("hub.sqlite", to: (folder as NSString).appendingPathComponent(HubStore.fileName))
        let old = try Self.states((folder as NSString).appendingPathComponent(HubStore.fileName))
        let hub = try HubStore.open(directory: folder)
        #expect(try hub.digest() == Self.digest)
        let reader = try ReplicaID("0123456789abcdef")
        let expanded = try await hub.changes(since: 0, limit: 100, for: reader, form: .expanded)
        let compact = try await hub.changes(since: 0, limit: 100, for: reader, form: .compact)
        #expect(expanded.lines.count == 6 && compact.lines.count == 6)
        for (line, short) in zip(expanded.lines, compact.lines) {
            let record = try ReplicatedRecord(json: line)
            // What 0.5.0 stored (and served) is the expanded canonical line, byte for byte.
            #expect(line == ReplicatedRecord.line(
                collection: record.collection, id: record.id, stateJSON: old["\(record.collection)/\(record.id)"]!))
            #expect(short == record.line(.compact))
        }
        let dots = try await hub.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dots") }
        #expect(dots == 8)
        // A hub rolled back to 0.5 for a while writes the expanded form into the upgraded
        // file: version 3 sessions are still served compact lines.
        try await hub.writer.write { db in
            try db.execute(sql: "UPDATE records SET state = ? WHERE collection = 'asks' AND id = 'ask-budget'", arguments: [old["asks/ask-budget"]!])
        }
        for line in try await hub.changes(since: 0, limit: 100, for: reader, form: .compact).lines {
            var text = line
            let record = try text.withUTF8 { bytes in try ReplicatedRecord.decode(utf8: UnsafeRawBufferPointer(bytes), form: .compact) }
            #expect(record.line(.compact) == line)
        }
    }

    @Test("a larger file gives the space the compact form frees back to the disk")
    func vacuumed() throws {
        let directory = try TemporaryDirectory("mufakat-migrate")
        let path = directory.path("replica.sqlite")
        try Self.copy("replica.sqlite", to: path)
        // 3,000 more records in 0.5.0's form: copies of the report under other ids.
        func pages() throws -> Int {
            let queue = try DatabaseQueue(path: path)
            defer { try? queue.close() }
            return try queue.read { db in try Int.fetchOne(db, sql: "PRAGMA page_count")! }
        }
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
                    INSERT INTO records (collection, id, state, document, deleted, conflicted, seq, origin, acked)
                    SELECT collection, 'r-copy-' || i, state, document, deleted, conflicted, 0, origin, 0
                    FROM records, n WHERE collection = 'reports'
                    """)
            }
            try queue.close()
        }
        let before = try pages()
        let store = try ReplicaStore.open(at: path)
        #expect(try store.list("reports").count == 3_001)
        let after = try pages()
        #expect(after * 4 < before * 3, "\(before) pages before, \(after) after")
    }

    @Test("four processes' worth of opens at once: one upgrades, the others wait and find it done; a killed attempt's partial copy is cleared")
    func concurrentOpens() throws {
        let directory = try TemporaryDirectory("mufakat-migrate")
        let path = directory.path("replica.sqlite")
        try Self.copy("replica.sqlite", to: path)
        // A partial copy from an upgrade whose process is gone (pid 2^22 + 1 is above Linux's limit).
        let stale = path + ".before-upgrade.partial-4194305"
        #expect(FileManager.default.createFile(atPath: stale, contents: Data("half a copy".utf8)))
        #expect(FileManager.default.createFile(atPath: stale + "-journal", contents: Data()))
        let results = Mutex<[Result<String, any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let result = Result { try ReplicaStore.open(at: path).digest() }
            results.withLock { $0.append(result) }
        }
        let digests = try results.withLock { try $0.map { try $0.get() } }
        #expect(digests == Array(repeating: try Self.digest, count: 4))
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains("before-upgrade") }
        #expect(left.isEmpty, "\(left)")
    }

    @Test("a migration that fails leaves the file as it was and keeps the copy, naming it")
    func failedMigration() throws {
        let directory = try TemporaryDirectory("mufakat-migrate")
        let path = directory.path("replica.sqlite")
        try Self.copy("replica.sqlite", to: path)
        // A state no version of mufakat writes (a field without entries): decoding it fails.
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: #"UPDATE records SET state = '{"context":{},"fields":{"x":[]}}' WHERE id = 'iom'"#)
            }
            try queue.close()
        }
        let before = try Self.states(path)
        // A copy an earlier failed attempt left, older than the file: replaced, not trusted.
        try Self.copy("replica.sqlite", to: path + ".before-upgrade")
        #expect(try Self.states(path + ".before-upgrade") != before)
        #expect(throws: MufakatError.self) { try ReplicaStore.open(at: path) }
        do {
            _ = try ReplicaStore.open(at: path)
        } catch let error as MufakatError {
            #expect(error.message.contains(path + ".before-upgrade"), "\(error.message)")
        }
        #expect(try Self.states(path) == before)
        #expect(try Self.states(path + ".before-upgrade") == before)
        // The copy holds what the file holds (a hub's: token hashes and its key): owner only.
        let mode = try FileManager.default.attributesOfItem(atPath: path + ".before-upgrade")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains("partial") }.isEmpty)
        let applied = try DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(!applied.contains("replica-v5-compact-states"))
    }
}
