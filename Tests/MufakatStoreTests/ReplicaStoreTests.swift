import Foundation
import GRDB
import MufakatCore
import MufakatTesting
import Synchronization
import Testing
@testable import MufakatStore
import MufakatSync

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let now = Mutex<Int64>(1_764_400_000_000)
    var read: @Sendable () -> Int64 { { [self] in now.withLock { $0 += 1_000; return $0 } } }
    func set(_ value: Int64) { now.withLock { $0 = value } }
}

/// The store's local rules — writes, deletes, resolves, merges, the views — on replicas made
/// by 0.7, whose own counters name their writes, so states pass between two stores without a
/// hub. ReplicaNamingTests covers the same writes in a replica whose writes the hub names.
@Suite("Replica store")
struct ReplicaStoreTests {
    /// The same tests against a temporary file and an in-memory database.
    static func stores() throws -> [(String, ReplicaStore, TemporaryDirectory?)] {
        let directory = try TemporaryDirectory()
        return [
            ("file", try ReplicaStore.create(at: directory.path("replica.sqlite"), hub: "h:1", token: "t", name: "Andi (IOM)", naming: false), directory),
            ("memory", try ReplicaStore.inMemory(name: "Andi (IOM)", naming: false), nil),
        ]
    }

    @Test("migrations create the tables, views and indexes; integrity check is clean")
    func migrations() throws {
        for (kind, store, _) in try Self.stores() {
            let names = try store.writer.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('table','view','index') ORDER BY name")
            }
            for expected in ["records", "meta", "records_seq"] + Catalogue.collectionNames {
                #expect(names.contains(expected), "\(kind): \(expected)")
            }
            #expect(try store.integrityCheck() == ["ok"], "\(kind)")
        }
    }

    @Test("a file replica uses WAL and can be reopened with its identity")
    func reopen() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("replica.sqlite")
        let first = try ReplicaStore.create(at: path, hub: "h:1", token: "t", name: "Sari")
        try first.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
        let mode = try first.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let again = try ReplicaStore.open(at: path)
        #expect(try again.metadata() == first.metadata())
        #expect(try again.get("organizations", id: "iom").document["name"] == .string("IOM"))
        #expect(throws: MufakatError.self) { try ReplicaStore.create(at: path, hub: "h:1", token: "t", name: "x") }
    }

    @Test("put writes only the named fields; one dot per put")
    func put() throws {
        for (_, store, _) in try Self.stores() {
            try store.put("positions", id: "kemnaker:ask-1", [("stance", "activesupport"), ("influence", "High")])
            try store.put("positions", id: "kemnaker:ask-1", [("statement", "We support it.")])
            let record = try store.get("positions", id: "kemnaker:ask-1")
            #expect(record.document == [
                "subject": .string("kemnaker"), "ask": .string("ask-1"), "stance": .string("ActiveSupport"),
                "influence": .string("High"), "statement": .string("We support it."),
            ])
            #expect(try store.metadata().counter == 2)
            try store.put("positions", id: "kemnaker:ask-1", [("influence", "")])
            #expect(try store.get("positions", id: "kemnaker:ask-1").document["influence"] == nil)
        }
    }

    @Test("a put that changes nothing writes nothing: no dot, same digest")
    func unchangedPut() throws {
        for (_, store, _) in try Self.stores() {
            try store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
            let digest = try store.digest()
            let counter = try store.metadata().counter
            let outcome = try store.put("organizations", id: "iom", [("name", " IOM "), ("type", "unagency")])
            #expect(outcome.action == "unchanged")
            #expect(try store.digest() == digest)
            #expect(try store.metadata().counter == counter)
        }
    }

    @Test("an invalid put changes nothing and names every problem")
    func invalidPut() throws {
        for (_, store, _) in try Self.stores() {
            try store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
            let digest = try store.digest()
            do {
                try store.put("positions", id: "iom:ask-1", [("stance", "suport"), ("colour", "red")])
                Issue.record("accepted")
            } catch let error as MufakatError {
                #expect(error.code == .invalid)
                #expect(error.message.contains("stance: 'suport' is not one of ActiveSupport"))
                #expect(error.message.contains("colour: unknown field"))
            }
            #expect(throws: MufakatError.self) { try store.put("positions", id: "iom:ask-1", [("influence", "High")]) }
            #expect(throws: MufakatError.self) { try store.put("positions", id: "iom:ask-2", [("stance", "Neutral"), ("ask", "ask-1")]) }
            #expect(throws: MufakatError.self) { try store.put("nations", id: "x", [("name", "y")]) }
            #expect(throws: MufakatError.self) { try store.put("organizations", id: "IOM Indonesia", [("name", "x"), ("type", "NGO")]) }
            #expect(try store.digest() == digest)
            #expect(try store.metadata().counter == 1)
        }
    }

    @Test("new derives report ids from the natural key and generates the others")
    func new() throws {
        let store = try ReplicaStore.inMemory(naming: false)
        let report = try store.new("reports", [
            ("org", "iom"), ("period", "2025-Q3"), ("country", "ID"), ("indicator", "VictimsIdentified"), ("value", "12"),
        ])
        #expect(report.id.hasPrefix("r-"))
        #expect(report.warnings == ["org: 'iom' is not in organizations on this replica (yet)"])
        let again = try store.new("reports", [
            ("org", "IOM"), ("period", "2025-q3"), ("country", "id"), ("indicator", "victimsidentified"), ("value", "12"),
        ])
        #expect(again.id == report.id)
        #expect(again.action == "unchanged")
        let ask = try store.new("asks", [("title", "Raise the shelter budget"), ("category", "BudgetIncrease")])
        #expect(ask.id.hasPrefix("ask-"))
        let organization = try store.new("organizations", [("name", "Save the Children"), ("type", "INGO")])
        #expect(organization.id == "save-the-children")
    }

    @Test("delete, revive, and the views people query")
    func deleteAndViews() throws {
        for (_, store, _) in try Self.stores() {
            try store.put("positions", id: "kemnaker:ask-1", [("stance", "Neutral")])
            try store.put("positions", id: "bp2mi:ask-1", [("stance", "ActiveSupport")])
            let rows = try store.writer.read { db in
                try Row.fetchAll(db, sql: "SELECT id, subject, stance FROM positions ORDER BY id")
            }
            #expect(rows.map { $0["stance"] as String } == ["ActiveSupport", "Neutral"])
            try store.delete("positions", id: "kemnaker:ask-1")
            #expect(try store.get("positions", id: "kemnaker:ask-1").deleted)
            #expect(try store.list("positions").map(\.id) == ["bp2mi:ask-1"])
            let live = try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM positions") }
            #expect(live == 1)
            #expect(try store.delete("positions", id: "kemnaker:ask-1").action == "unchanged")
            #expect(throws: MufakatError.self) { try store.delete("positions", id: "nobody:ask-1") }
            try store.put("positions", id: "kemnaker:ask-1", [("stance", "PassiveSupport")])
            let revived = try store.get("positions", id: "kemnaker:ask-1")
            #expect(!revived.deleted)
            #expect(revived.document["stance"] == .string("PassiveSupport"))
        }
    }

    @Test("list filters by typed values, list membership and conflicts")
    func listFilters() throws {
        let store = try ReplicaStore.inMemory(naming: false)
        try store.put("positions", id: "a:ask-1", [("stance", "Neutral")])
        try store.put("positions", id: "b:ask-1", [("stance", "ActiveSupport")])
        try store.put("meetings", id: "mtg-1", [("date", "2025-11-03"), ("title", "November"), ("attendees", "iom;unicef")])
        #expect(try store.list("positions", where: [("stance", "activesupport")]).map(\.id) == ["b:ask-1"])
        #expect(try store.list("meetings", where: [("attendees", "unicef")]).map(\.id) == ["mtg-1"])
        #expect(try store.list("meetings", where: [("attendees", "stc")]).isEmpty)
        #expect(throws: MufakatError.self) { try store.list("positions", where: [("stance", "maybe")]) }
        #expect(try store.list("positions", conflictsOnly: true).isEmpty)
    }

    @Test("one report however its key text was typed: precomposed, combining accent, capitals, spacing")
    func naturalKeysNormalised() throws {
        let store = try ReplicaStore.inMemory(naming: false)
        try store.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
        var ids: Set<String> = []
        for area in ["Caf\u{E9} Street", "Cafe\u{301} street", "CAF\u{C9}  STREET", "caf\u{E9} street"] {
            let outcome = try store.new("reports", [
                ("org", "iom"), ("period", "2025-Q3"), ("country", "ID"), ("area", area), ("indicator", "VictimsIdentified"),
                ("value", "3"),
            ])
            ids.insert(outcome.id)
        }
        #expect(ids.count == 1)
        // The stored text is what was last typed, not the normalised key.
        #expect(try store.get("reports", id: ids.first!).document["area"] == .string("caf\u{E9} street"))
        // Another area is another figure.
        let other = try store.new("reports", [
            ("org", "iom"), ("period", "2025-Q3"), ("country", "ID"), ("area", "Cafe Street"), ("indicator", "VictimsIdentified"),
            ("value", "3"),
        ])
        #expect(!ids.contains(other.id))
        // A key field never changes; the same key typed otherwise is no change.
        #expect(throws: MufakatError.self) { try store.put("reports", id: other.id, [("area", "Elsewhere")]) }
        #expect(try store.put("reports", id: other.id, [("area", "CAFE  street")]).action == "updated")
    }

    @Test("a deleted record keeps its values; restore brings it back; restoring a live one changes nothing")
    func restoreDeleted() throws {
        let store = try ReplicaStore.inMemory(naming: false)
        try store.put("positions", id: "gov:budget", [("stance", "Neutral"), ("statement", "old evidence")])
        try store.delete("positions", id: "gov:budget")
        let deleted = try store.get("positions", id: "gov:budget")
        #expect(deleted.deleted && deleted.conflicts.isEmpty)
        #expect(deleted.document["statement"] == .string("old evidence"))
        #expect(try store.list("positions").isEmpty)
        let before = try store.digest()
        #expect(try store.restore("positions", id: "gov:budget").action == "restored")
        #expect(try store.digest() != before)
        let back = try store.get("positions", id: "gov:budget")
        #expect(!back.deleted)
        #expect(back.document == ["subject": .string("gov"), "ask": .string("budget"), "stance": .string("Neutral"), "statement": .string("old evidence")])
        let live = try store.digest()
        #expect(try store.restore("positions", id: "gov:budget").action == "unchanged")
        #expect(try store.digest() == live)
        #expect(throws: MufakatError.self) { try store.restore("positions", id: "gov:none") }
    }

    @Test("a record deleted by an older version (nulls) is never brought back incomplete: resolve and restore say what is missing")
    func legacyTombstone() async throws {
        let a = try ReplicaID("aaaa"), b = try ReplicaID("bbbb")
        var state = RecordState()
        try state.write(["subject": .string("gov"), "ask": .string("budget"), "stance": .string("Neutral")], dot: Dot(replica: a, counter: 1), now: 1_764_400_000_000, author: "A")
        var edit = state
        try state.write(["_deleted": .bool(true), "subject": .null, "ask": .null, "stance": .null], dot: Dot(replica: a, counter: 2), now: 1_764_400_001_000, author: "A")
        try edit.write(["statement": .string("new")], dot: Dot(replica: b, counter: 1), now: 1_764_400_002_000, author: "B")
        let store = try ReplicaStore.inMemory(naming: false)
        _ = try await store.applyPulled([ReplicatedRecord(collection: "positions", id: "gov:budget", state: try state.merging(edit))], through: 1)
        let record = try store.get("positions", id: "gov:budget")
        #expect(record.deleted && !record.conflicts.isEmpty)
        let before = try store.digest()
        let keep = try #require(record.conflicts.first { $0.field == "statement" }?.candidates.firstIndex { !$0.isDeletion })
        #expect {
            try store.resolve("positions", id: "gov:budget", field: "statement", .pick(keep + 1))
        } throws: { ($0 as? MufakatError)?.message.contains("stance: is required") == true }
        #expect { try store.restore("positions", id: "gov:budget") } throws: { ($0 as? MufakatError)?.message.contains("stance") == true }
        #expect(try store.digest() == before)
        // A put with the missing value brings it back, keys filled in from the id.
        try store.put("positions", id: "gov:budget", [("stance", "ActiveSupport")])
        let back = try store.get("positions", id: "gov:budget")
        #expect(!back.deleted && back.document["subject"] == .string("gov") && back.document["statement"] == .string("new"))
    }

    @Test("resolve is a write like put: key fields never change, required fields stay filled; a conflicted record is not deleted before someone chooses")
    func resolveAndDeleteRules() async throws {
        let clock = TestClock()
        let mine = try ReplicaStore.inMemory(name: "Andi (IOM)", naming: false, clock: clock.read)
        let theirs = try ReplicaStore.inMemory(name: "Sari (UNICEF)", naming: false, clock: clock.read)
        try mine.put("organizations", id: "iom", [("name", "IOM"), ("type", "UNAgency")])
        let figure = [("org", "iom"), ("period", "2025-Q4"), ("country", "ID"), ("indicator", "VictimsIdentified"), ("value", "3")]
        let report = try mine.new("reports", figure + [("area", "Caf\u{E9} Street")]).id
        try mine.put("positions", id: "gov:budget", [("stance", "Neutral")])
        // The same figure entered on both, offline: one id, two spellings of its area.
        #expect(try theirs.new("reports", figure + [("area", "CAFE\u{301}  STREET")]).id == report)
        _ = try await theirs.applyPulled(try await mine.nextPendingPush(limit: 100)!.records, through: 1)
        try mine.put("positions", id: "gov:budget", [("stance", "ActiveSupport")])
        try theirs.put("positions", id: "gov:budget", [("stance", "ActiveOpposition")])
        _ = try await mine.applyPulled(try await theirs.nextPendingPush(limit: 100)!.records, through: 2)
        #expect(Set(try mine.conflicts().map(\.id)) == [report, "gov:budget"])
        let before = try mine.digest()

        // A key field in conflict (two spellings of one key) takes either spelling, never another key.
        #expect { try mine.resolve("reports", id: report, field: "area", .value("Somewhere Else")) } throws: {
            ($0 as? MufakatError)?.message.contains("never changes") == true
        }
        // A required field is not emptied by a resolve.
        #expect { try mine.resolve("positions", id: "gov:budget", field: "stance", .value("")) } throws: {
            ($0 as? MufakatError)?.message.contains("stance: is required") == true
        }
        // Deleting the conflicted record would keep only the shown value: choose first.
        #expect { try mine.delete("positions", id: "gov:budget") } throws: {
            ($0 as? MufakatError)?.message.contains("stance is in conflict") == true
        }
        #expect(try mine.digest() == before)
        try mine.resolve("reports", id: report, field: "area", .value("caf\u{E9} street"))
        try mine.resolve("positions", id: "gov:budget", field: "stance", .pick(1))
        #expect(try mine.delete("positions", id: "gov:budget").action == "deleted")
        #expect(try mine.conflicts().isEmpty)
    }

    @Test("conflicts arrive by merge, are listed, and resolve by pick or value")
    func conflictsAndResolve() async throws {
        let clock = TestClock()
        let mine = try ReplicaStore.inMemory(name: "Andi (IOM)", naming: false, clock: clock.read)
        let theirs = try ReplicaStore.inMemory(name: "Sari (UNICEF)", naming: false, clock: clock.read)
        try mine.put("positions", id: "kemnaker:ask-1", [("stance", "Neutral")])
        _ = try await theirs.applyPulled(try await mine.nextPendingPush(limit: 100)!.records, through: 1)
        try mine.put("positions", id: "kemnaker:ask-1", [("stance", "ActiveSupport")])
        try theirs.put("positions", id: "kemnaker:ask-1", [("stance", "PassiveOpposition")])
        let outcome = try await mine.applyPulled(try await theirs.nextPendingPush(limit: 100)!.records, through: 2)
        #expect(outcome == PullOutcome(changed: 1, newConflicts: 1))
        let conflicted = try mine.conflicts()
        #expect(conflicted.map(\.id) == ["kemnaker:ask-1"])
        let candidates = try #require(conflicted.first?.conflicts.first?.candidates)
        #expect(Set(candidates.map(\.author)) == ["Andi (IOM)", "Sari (UNICEF)"])
        #expect(try mine.list("positions", conflictsOnly: true).count == 1)

        #expect(throws: MufakatError.self) { try mine.resolve("positions", id: "kemnaker:ask-1", field: "influence", .pick(1)) }
        #expect(throws: MufakatError.self) { try mine.resolve("positions", id: "kemnaker:ask-1", field: "stance", .pick(3)) }
        #expect(throws: MufakatError.self) { try mine.resolve("positions", id: "kemnaker:ask-1", field: "stance", .value("perhaps")) }
        let pick = candidates.firstIndex { $0.value == .string("PassiveOpposition") }! + 1
        try mine.resolve("positions", id: "kemnaker:ask-1", field: "stance", .pick(pick))
        #expect(try mine.conflicts().isEmpty)
        #expect(try mine.get("positions", id: "kemnaker:ask-1").document["stance"] == .string("PassiveOpposition"))
        // The resolution travels: the other replica's conflict clears too.
        _ = try await theirs.applyPulled(try await mine.nextPendingPush(limit: 100)!.records, through: 3)
        _ = try await mine.applyPulled(try await theirs.nextPendingPush(limit: 100)!.records, through: 4)
        #expect(try theirs.conflicts().isEmpty)
        #expect(try theirs.digest() == mine.digest())
    }

    @Test("taking a new id while another replica's write waits in the journal keeps it: back in its record, beside this replica's own later write")
    func newIdentityKeepsWaitingJournal() async throws {
        let store = try ReplicaStore.inMemory(naming: false)
        try store.put("positions", id: "gov:ask-2", [("stance", "Neutral")])
        let twin = try ReplicaID("cccc")
        let key = RecordKey(collection: "positions", id: "gov:ask-2")
        // A colleague's write this replica received, which the hub then refused as reused-dot.
        var state = try #require(try await store.nextPendingPush(limit: 10)?.records.first).state
        try state.write(["statement": .string("The ministry will fund shelters")], dot: Dot(replica: twin, counter: 5), now: 1_764_400_000_000, author: "Sari (UNICEF)")
        _ = try await store.applyPulled([ReplicatedRecord(collection: key.collection, id: key.id, state: state)], through: 1)
        let batch = try #require(try await store.nextPendingPush(limit: 10))
        try await store.acknowledgePush(
            batch, through: batch.header.through, rejected: [(key.collection, key.id, "reused-dot", ["statement"], "")], rejectedCount: 1,
            hubID: "h", reusedDots: [key: [Dot(replica: twin, counter: 5)]])
        #expect(try await store.hasJournal())
        #expect(try store.get("positions", id: "gov:ask-2").document["statement"] == nil, "waiting in the journal")
        // Before the journal is written again, this replica writes the same field, then has
        // to take a new id (a copy of its folder synced first).
        try store.put("positions", id: "gov:ask-2", [("statement", "Under review")])
        _ = try await store.takeNewIdentity()
        try await store.replayJournal()
        let view = try store.get("positions", id: "gov:ask-2")
        let statements = Set(view.conflicts.first { $0.field == "statement" }?.candidates.map(\.value) ?? [])
        #expect(statements == [.string("The ministry will fund shelters"), .string("Under review")], "both writes kept, as a conflict")
        #expect(view.document["stance"] == .string("Neutral"))
    }

    @Test("sync bookkeeping: pending pushes in order, in flight, acknowledgement, refusals kept, checkpoint")
    func syncBookkeeping() async throws {
        let store = try ReplicaStore.inMemory(naming: false)
        for index in 1...5 {
            try store.put("organizations", id: "org-\(index)", [("name", "Org \(index)"), ("type", "NGO")])
        }
        let first = try #require(try await store.nextPendingPush(limit: 2))
        #expect(first.records.map(\.id) == ["org-1", "org-2"])
        #expect(first.header.through == 2)
        #expect(first.header.after == "")
        #expect(first.header.counter == 5)
        #expect(try store.progress().inflight == .init(id: first.header.id, through: 2), "stored before it is sent")
        try await store.acknowledgePush(first, through: 2, rejected: [], rejectedCount: 0, hubID: "h")
        #expect(try store.progress().lastPush == first.header.id)
        #expect(try store.progress().inflight == nil)
        let second = try #require(try await store.nextPendingPush(limit: 10))
        #expect(second.records.map(\.id) == ["org-3", "org-4", "org-5"])
        #expect(second.header.after == first.header.id)
        #expect(try store.status().pendingChanges == 3)
        try await store.acknowledgePush(
            second, through: 5, rejected: [("organizations", "org-4", "invalid", ["name"], "name: is an empty string; a cleared field is null")], rejectedCount: 1, hubID: "h")
        #expect(try await store.nextPendingPush(limit: 10) == nil)
        // The refused record stays pending, with the hub's reason, until the hub takes it.
        #expect(try store.status().pendingChanges == 1)
        #expect(try store.pendingRejections().map { [$0.id, $0.code] + $0.fields + [$0.reason] } == [["org-4", "invalid", "name", "name: is an empty string; a cleared field is null"]])
        let retry = try #require(try await store.resendPush(try await store.resendKeys()[...]))
        #expect(retry.records.map(\.id) == ["org-4"])
        #expect(retry.header.through == 5)
        try await store.acknowledgePush(retry, through: 5, rejected: [], rejectedCount: 0, hubID: "h")
        #expect(try store.pendingRejections().isEmpty)
        #expect(try store.status().pendingChanges == 0)

        var other = RecordState()
        try other.write(["name": .string("UNICEF"), "type": .string("UNAgency")], dot: Dot(replica: ReplicaID("beef"), counter: 1), now: 1, author: "Sari")
        _ = try await store.applyPulled([ReplicatedRecord(collection: "organizations", id: "unicef", state: other)], through: 17)
        #expect(try store.metadata().checkpoint == 17)
        #expect(try await store.nextPendingPush(limit: 10) == nil, "received records are not pushed back")
        #expect(try store.pendingRejections().isEmpty)
    }

    @Test("a hub that listed fewer refusals than it counted: every unlisted record is sent again")
    func unlistedRefusals() async throws {
        let store = try ReplicaStore.inMemory(naming: false)
        for index in 1...3 {
            try store.put("organizations", id: "org-\(index)", [("name", "Org \(index)"), ("type", "NGO")])
        }
        let batch = try #require(try await store.nextPendingPush(limit: 10))
        try await store.acknowledgePush(
            batch, through: 3, rejected: [("organizations", "org-2", "invalid", [], "")], rejectedCount: 2, hubID: "h")
        #expect(try store.pendingRejections().map(\.id).sorted() == ["org-1", "org-2", "org-3"])
    }

    @Test("a clock set back a year still shows the newest write")
    func clockSetBack() throws {
        let clock = TestClock()
        let store = try ReplicaStore.inMemory(naming: false, clock: clock.read)
        try store.put("positions", id: "a:ask-1", [("stance", "Neutral")])
        clock.set(1_764_400_000_000 - 365 * 86_400_000)
        try store.put("positions", id: "a:ask-1", [("stance", "ActiveSupport")])
        #expect(try store.get("positions", id: "a:ask-1").document["stance"] == .string("ActiveSupport"))
    }
}

@Suite("Pending writes carry the laptop's clock for display only")
struct EnteredAtTests {
    /// Issue 27, case 2: a laptop restored onto a slow clock. What it sends as "entered on the
    /// laptop at" is its clock as it is; the entry it shows stays the newest of the record.
    @Test("a pending write's entered time is the laptop's clock even when years behind the record; the shown entry is still newest")
    func enteredAtIsTheClock() async throws {
        let ticks = Mutex<Int64>(2_000_000_000_000)
        let store = try ReplicaStore.inMemory(clock: { ticks.withLock { $0 } })
        _ = try store.put("meetings", id: "mtg-a", [("title", "Monthly"), ("date", "2026-11-05")])
        ticks.withLock { $0 = 1_900_000_000_000 }
        _ = try store.put("meetings", id: "mtg-a", [("decisions", "Letter by 15 December")])
        let next = try await store.nextWrites(after: 0, limit: 10)
        #expect(next.writes.map(\.write.enteredAt) == [2_000_000_000_000, 1_900_000_000_000])
        let shown = try #require(try store.state("meetings", id: "mtg-a"))
        #expect((shown.fields["decisions"]?.first?.time ?? 0) > 2_000_000_000_000)
    }
}
