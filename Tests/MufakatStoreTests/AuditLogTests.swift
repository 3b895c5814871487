import Foundation
import Synchronization
import GRDB
import MufakatCore
import MufakatSync
import Testing
@testable import MufakatStore

/// The hub's audit log: one entry per stored change, chained by hashes, and what
/// `audit verify` finds when someone edits the file with `sqlite3`.
@Suite("Audit log: the hash chain and its checks")
struct AuditLogTests {
    static let replica = try! ReplicaID("a1a1a1a1a1a1a1a1")

    /// A hub in a fresh folder with three accepted changes by a member of ngo-a.
    static func hubWithChanges() async throws -> (HubStore, String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)").path
        // A clock after the real one, which stamps the log's start entry: the changes come later.
        let ticks = Mutex<Int64>(1_900_000_000_000)
        let store = try HubStore.open(directory: folder, clock: { ticks.withLock { $0 += 1_000; return $0 } })
        let (token, _) = try store.createToken(org: "NGO-A", name: "Ana", role: .member)
        _ = try await store.bind(replica: replica.rawValue, tokenID: token, client: "test")
        var state = RecordState()
        var after = ""
        for counter in UInt64(1)...3 {
            try state.write(
                counter == 1 ? ["title": .string("Raise the budget"), "category": .string("BudgetIncrease")] : ["status": .string(counter == 2 ? "Active" : "Achieved")],
                dot: Dot(replica: replica, counter: counter), now: 1_790_000_000_000 + Int64(counter), author: "Ana (NGO-A)")
            let push = PushHeader(through: counter, id: "p\(counter)", after: after, counter: counter)
            guard case .success(let result) = try await store.applyPush(
                [ReplicatedRecord(collection: "asks", id: "ask-budget", state: state)], header: push, from: replica)
            else { throw MufakatError(.invalid, "push refused") }
            #expect(result.accepted == 1)
            after = push.id
        }
        return (store, (folder as NSString).appendingPathComponent(HubStore.fileName))
    }

    /// Runs SQL on the hub file from another connection, as `sqlite3` would.
    static func tamper(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: sql) }
        try queue.close()
    }

    @Test("every stored change gets an entry: sequence, token, organisation, dots, old and new values; the chain holds")
    func entries() async throws {
        let (store, _) = try await Self.hubWithChanges()
        let all = try store.auditEntries()
        #expect(all.first?.kind == "start" && all.first?.seq == 1, "the log opens with its start entry")
        let entries = all.filter { $0.kind == nil }
        #expect(entries.map(\.entry) == [2, 3, 4])
        #expect(entries.map(\.seq) == [1, 2, 3])
        #expect(Set(entries.map(\.org)) == ["ngo-a"])
        #expect(Set(entries.map(\.role)) == ["member"])
        #expect(Set(entries.map(\.replica)) == [Self.replica.rawValue])
        #expect(entries[0].changes["title"] == AuditEntry.Change(old: nil, new: "Raise the budget"))
        #expect(entries[2].changes == ["status": AuditEntry.Change(old: "Active", new: "Achieved")])
        #expect(entries[2].dots == ["a1a1a1a1a1a1a1a1:3"])
        let verification = try store.verifyAudit()
        #expect(verification.problems.isEmpty)
        #expect(verification.head == "4:\(entries[2].hash)")
        let rows = try AuditEntry.csv(all).split(separator: "\n")
        // A header, the start entry, then one row per changed field: title and category, then status twice.
        #expect(rows.count == 6)
    }

    @Test("verify finds an edited value, an edited value with its hash recomputed, a removed line and a removed last line",
          arguments: [
            ("UPDATE audit_log SET changes = replace(changes, 'Active', 'Dropped') WHERE entry = 3", "was edited"),
            ("UPDATE audit_log SET org = 'lead' WHERE entry = 1", "was edited"),
            ("DELETE FROM audit_log WHERE entry = 2", "missing"),
            ("DELETE FROM audit_log WHERE entry = 4", "no entry for it"),
            ("DELETE FROM audit_log WHERE entry = 1", "start entry is missing"),
            ("UPDATE meta SET value = '999' WHERE key = 'seq'; DELETE FROM audit_log WHERE entry >= 3", "no entry for it"),
          ])
    func tampering(_ sql: String, _ finding: String) async throws {
        let (store, path) = try await Self.hubWithChanges()
        try Self.tamper(path, sql)
        let problems = try store.verifyAudit().problems
        #expect(problems.contains { $0.contains(finding) }, "\(problems)")
    }

    @Test("an entry rewritten with a hash that matches its new contents breaks the next entry's link")
    func rehashed() async throws {
        let (store, path) = try await Self.hubWithChanges()
        var second = try store.auditEntries()[2]
        second.changes["status"]?.new = "Dropped"
        second.hash = second.computedHash
        let changes = String(decoding: try JSONEncoder.sorted.encode(second.changes), as: UTF8.self)
        try Self.tamper(path, "UPDATE audit_log SET changes = '\(changes)', hash = '\(second.hash)' WHERE entry = 3")
        let problems = try store.verifyAudit().problems
        #expect(problems.count == 1)
        #expect(problems.first?.contains("entry 4: its 'prev'") == true)
    }

    @Test("a head noted earlier finds a log cut at its end, even when every record's entry was removed with it")
    func expectedHead() async throws {
        let (store, path) = try await Self.hubWithChanges()
        let noted = try store.verifyAudit().head.split(separator: ":")
        let head = (entry: Int64(noted[0])!, hash: String(noted[1]))
        #expect(try store.verifyAudit(expect: head).problems.isEmpty)
        // The last change undone by hand: its record gone, its entry gone. The chain holds.
        try Self.tamper(path, "DELETE FROM audit_log WHERE entry = 4; DELETE FROM records")
        #expect(try store.verifyAudit().problems.isEmpty)
        let problems = try store.verifyAudit(expect: head).problems
        #expect(problems.contains { $0.contains("entry 4, which you noted, is gone") }, "\(problems)")
    }

    @Test("a noted head removed by a 'pruned' entry is reported: such an entry is a line anyone able to write the file could add")
    func fakedRetention() async throws {
        let (store, path) = try await Self.hubWithChanges()
        let noted = try store.verifyAudit().head.split(separator: ":")
        let head = (entry: Int64(noted[0])!, hash: String(noted[1]))
        // The attacker removes everything through the noted entry and chains a 'pruned' entry.
        let entries = try store.auditEntries()
        let fake = AuditEntry(
            entry: head.entry + 1, seq: 4, time: 1_900_000_100_000, token: "-", name: "-", org: "-", role: "-", replica: "-", collection: "",
            id: "", inHouse: nil, dots: [], changes: [:], prev: entries.last!.hash, kind: "pruned", through: head.entry, throughHash: entries.last!.hash)
        try Self.tamper(path, "DELETE FROM audit_log WHERE entry <= \(head.entry); DELETE FROM records")
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in try HubStore.appendAudit(db, fake) }
        try queue.close()
        #expect(try store.verifyAudit().problems.isEmpty, "the chain alone cannot tell")
        #expect(try store.verifyAudit(expect: head).problems.contains { $0.contains("a 'pruned' entry says retention removed") })
    }

    @Test("pruning an idle log (nothing but its own entries old enough) changes nothing, however often")
    func idlePrune() async throws {
        let (store, _) = try await Self.hubWithChanges()
        let cutoff = try store.auditEntries()[3].time + 1
        #expect(try store.pruneAudit(before: cutoff) == 4)
        let after = try store.auditEntries()
        for _ in 0..<3 { #expect(try store.pruneAudit(before: Int64.max) == 0) }
        #expect(try store.auditEntries() == after)
        #expect(after.last?.kind == "pruned" && after.last?.seq == 4)
    }

    @Test("retention removes old entries and the chain stays checkable from the first one kept")
    func retention() async throws {
        let (store, _) = try await Self.hubWithChanges()
        let cutoff = try store.auditEntries()[2].time + 1
        #expect(try store.pruneAudit(before: cutoff) == 3, "the start entry and the first two changes")
        let verification = try store.verifyAudit()
        #expect(verification.problems.isEmpty, "\(verification.problems)")
        #expect(verification.first == 4)
        #expect(try store.auditEntries().map(\.kind) == [nil, "pruned"])
        #expect(try store.pruneAudit(before: cutoff) == 0)
        // Faking a retention run by hand: the first change removed, nothing recorded.
        let (other, path) = try await Self.hubWithChanges()
        try Self.tamper(path, "DELETE FROM audit_log WHERE entry <= 2")
        #expect(try other.verifyAudit().problems.contains { $0.contains("start entry is missing") })
    }

    @Test("a hub of 0.5.0 upgrades: its tokens become members, its records stay published, the log starts empty and holds")
    func upgradeFrom050() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("audit-up-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: MigrationTests.fixtures.appendingPathComponent("hub.sqlite").path,
            toPath: (folder as NSString).appendingPathComponent(HubStore.fileName))
        let store = try HubStore.open(directory: folder)
        let tokens = try store.tokens()
        #expect(!tokens.isEmpty && tokens.allSatisfy { $0.role == .member })
        #expect(try store.digest(for: Visibility(org: "nobody")) == store.digest())
        #expect(try store.verifyAudit().problems.isEmpty)
        #expect(try store.auditEntries().map(\.kind) == ["start"])
    }

    /// Issue 28: `=HYPERLINK(…)` passed raw into `mufakat-hub audit --csv`.
    @Test("the audit CSV defuses values a spreadsheet would run as formulas")
    func csvDefused() throws {
        let entry = AuditEntry(
            entry: 2, seq: 1, time: 1_900_000_000_000, token: "tok-1", name: "=cmd|' /C calc'!A0", org: "ngo-a", role: "member",
            replica: "a1a1a1a1a1a1a1a1", collection: "asks", id: "ask-1", inHouse: nil, dots: ["a1a1a1a1a1a1a1a1:1"],
            changes: ["title": .init(old: "-3", new: "=HYPERLINK(\"http://evil.example\")")], prev: "")
        let csv = try AuditEntry.csv([entry])
        #expect(csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""))
        #expect(csv.contains("'=cmd|"))
        #expect(csv.contains(",-3,"), "a plain number stays a number")
    }
}
