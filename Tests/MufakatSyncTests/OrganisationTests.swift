import Foundation
import MufakatClient
import MufakatCore
import MufakatStore
import MufakatSync
import MufakatTesting
import MufakatWire
import Testing

/// Organisations as a trust boundary over real connections: refused writes kept pending,
/// drafts kept in-house, digests per visibility, the audit trail and `history`.
@Suite("Organisations: roles, drafts in-house, audit trail")
struct OrganisationTests {
    static func report(org: String, value: Int = 7, status: String = "Draft") -> [(String, String)] {
        [("org", org), ("period", "2026-10"), ("country", "ID"), ("indicator", "VictimsIdentified"), ("value", String(value)), ("status", status)]
    }

    static func reportID(org: String) -> String {
        Catalogue.reports.derivedID(for: [
            "org": .string(org), "period": .string("2026-10"), "country": .string("ID"), "indicator": .string("VictimsIdentified"),
        ])!
    }

    /// A coordinator (lead), members of ngo-a and ngo-b, and an observer of ngo-b.
    struct Coalition {
        var lead: TestReplica
        var a: TestReplica
        var b: TestReplica
        var observer: TestReplica

        init(_ hub: TestHub) throws {
            lead = TestReplica(store: try hub.replica(token: try hub.token(org: "lead", name: "Lia", role: .coordinator), name: "Lia (LEAD)"))
            a = TestReplica(store: try hub.replica(token: try hub.token(org: "ngo-a", name: "Ana", role: .member), name: "Ana (NGO-A)"))
            b = TestReplica(store: try hub.replica(token: try hub.token(org: "ngo-b", name: "Budi", role: .member), name: "Budi (NGO-B)"))
            observer = TestReplica(store: try hub.replica(token: try hub.token(org: "ngo-b", name: "Olga", role: .observer), name: "Olga (NGO-B)"))
        }

        var all: [TestReplica] { [lead, a, b, observer] }
    }

    /// The demo found two members' concurrent writes to one position refused: each carries its
    /// own assessedBy, and the hub took the other's, which the write never saw, as one it left
    /// standing.
    @Test("two members assessing one position at once are both stored, their assessedBy side by side as a conflict")
    func concurrentAssessments() async throws {
        try await withHub { hub in
            let c = try Coalition(hub)
            for replica in c.all { try await replica.sync() }
            try c.lead.store.put("organizations", id: "ministry", [("name", "Ministry"), ("type", "CentralGovernment")])
            try c.lead.store.put("asks", id: "ask-x", [("title", "Fund shelters"), ("category", "BudgetIncrease")])
            try c.lead.store.put("positions", id: "ministry:ask-x", [("stance", "Neutral")])
            try await c.lead.sync()
            try await c.a.sync()
            try await c.b.sync()
            try c.a.store.put("positions", id: "ministry:ask-x", [("statement", "Said yes in March")])
            try c.b.store.put("positions", id: "ministry:ask-x", [("source", "Meeting notes")])
            let first = try await c.a.sync()
            let second = try await c.b.sync()
            #expect(first.waiting.isEmpty && second.waiting.isEmpty, "\(first.waiting) \(second.waiting)")
            let onHub = try #require(try hub.store.records().first { $0.id == "ministry:ask-x" }).state
            #expect(Set(onHub.strings(of: "assessedBy")) == ["ngo-a", "ngo-b"])
            #expect(onHub.document["statement"] == .string("Said yes in March") && onHub.document["source"] == .string("Meeting notes"))
        }
    }

    /// An outside review found a refused write dropped unseen: the write made on top of it
    /// was named over it, and the laptop then showed values the hub never held, forever.
    @Test("a write made on top of a refused one waits until the refused one is settled; after discard, the laptop equals the hub")
    func refusedThenFollowed() async throws {
        try await withHub { hub in
            let c = try Coalition(hub)
            for replica in c.all { try await replica.sync() }
            try c.lead.store.put("organizations", id: "ngo-a", [("name", "NGO A"), ("type", "NGO")])
            try await c.lead.sync()
            try await c.a.sync()
            let id = Self.reportID(org: "ngo-a")
            try c.a.store.put("reports", id: id, Self.report(org: "ngo-a", value: 10, status: "Submitted"))
            try await c.a.sync()
            try await c.lead.sync()
            try c.lead.store.put("reports", id: id, [("status", "Validated")])
            try await c.lead.sync()
            // The member, not having pulled the validation, moves its figure back to Submitted.
            try c.a.store.put("reports", id: id, [("value", "200"), ("notes", "first"), ("status", "Submitted")])
            let refused = try await c.a.sync()
            #expect(refused.waiting.map(\.code) == ["backward-status"])
            try c.a.store.put("reports", id: id, [("notes", "second")])
            let held = try await c.a.sync()
            #expect(held.waiting.map(\.code) == ["backward-status"], "still refused, still shown")
            #expect(try c.a.store.pendingCount() == 2, "the later write waits behind the refused one")
            #expect(try hub.store.records().first { $0.id == id }?.state.document["notes"] == nil)

            _ = try c.a.store.discardRefused("reports", id: id)
            let settled = try await c.a.sync()
            #expect(settled.waiting.isEmpty)
            let onHub = try #require(try hub.store.records().first { $0.id == id }).state
            #expect(onHub.document["notes"] == .string("second") && onHub.document["value"] == .integer(10))
            #expect(onHub.document["status"] == .string("Validated"))
            #expect(try c.a.store.pendingCount() == 0)
            let tokens = try hub.store.tokens()
            #expect(try c.a.digest == hub.store.digest(for: Visibility(tokens.first { $0.name == "Ana" }!.writer)))
        }
    }

    @Test("a draft reaches its organization and coordinators only, until submitted; each replica's digest equals the hub's for its token")
    func draftsStayInHouse() async throws {
        try await withHub { hub in
            let c = try Coalition(hub)
            for replica in c.all { try await replica.sync() }
            try c.lead.store.put("organizations", id: "ngo-a", [("name", "NGO A"), ("type", "NGO")])
            try c.lead.store.put("organizations", id: "ngo-b", [("name", "NGO B"), ("type", "NGO")])
            try await c.lead.sync()
            try c.a.store.put("reports", id: Self.reportID(org: "ngo-a"), Self.report(org: "ngo-a"))
            try await c.a.sync()
            for replica in c.all { try await replica.sync() }

            let draft = Self.reportID(org: "ngo-a")
            #expect((try? c.lead.store.get("reports", id: draft)) != nil, "a coordinator receives drafts")
            #expect((try? c.b.store.get("reports", id: draft)) == nil, "another member does not")
            #expect((try? c.observer.store.get("reports", id: draft)) == nil, "nor another organization's observer")
            let tokens = try hub.store.tokens()
            func hubDigest(_ name: String) throws -> String {
                try hub.store.digest(for: Visibility(tokens.first { $0.name == name }!.writer))
            }
            #expect(try c.lead.digest == hubDigest("Lia"))
            #expect(try c.a.digest == hubDigest("Ana"))
            #expect(try c.b.digest == hubDigest("Budi"))
            #expect(try c.observer.digest == hubDigest("Olga"))
            #expect(try hubDigest("Budi") != hubDigest("Ana"))
            #expect(try hub.store.digest(for: Visibility(org: "ngo-b")) == hubDigest("Budi"))

            // Submitted: everyone receives it, and every digest is the hub's whole one.
            try c.a.store.put("reports", id: draft, [("status", "Submitted")])
            try await c.a.sync()
            for replica in c.all { try await replica.sync() }
            #expect(try c.b.store.get("reports", id: draft).document["status"] == .string("Submitted"))
            for replica in c.all { #expect(try replica.digest == hub.store.digest()) }

            // Back to draft: refused offline, and the figure stays submitted everywhere.
            #expect(throws: MufakatError.self) { try c.a.store.put("reports", id: draft, [("status", "Draft")]) }
        }
    }

    @Test("a member's write to another organization's record is refused offline; sent by a raw client, the hub refuses it as forbidden")
    func crossOrganisationEdit() async throws {
        try await withHub { hub in
            let c = try Coalition(hub)
            try c.b.store.put("reports", id: Self.reportID(org: "ngo-b"), Self.report(org: "ngo-b", value: 30, status: "Submitted"))
            try await c.b.sync()
            try await c.a.sync()
            let figure = Self.reportID(org: "ngo-b")
            do {
                try c.a.store.put("reports", id: figure, [("value", "300")])
                Issue.record("the replica wrote another organization's figure")
            } catch let error as MufakatError {
                #expect(error.code == .forbidden)
                #expect(error.message.contains("ngo-a"))
            }

            // A crafted push of the same edit, under the member's own replica id and token.
            var state = try #require(try c.a.store.state("reports", id: figure))
            let replica = try c.a.store.progress().replica
            try state.write(["value": .integer(300)], dot: Dot(replica: replica, counter: 1), now: 1_790_000_000_000, author: "Ana (NGO-A)")
            let token = try c.a.store.metadata().token
            try await RawHubConnection.with(hub) { connection in
                guard case .welcome(let welcome) = try await connection.hello(replica: replica.rawValue, token: token) else {
                    Issue.record("no welcome")
                    return
                }
                #expect(welcome.org == "ngo-a")
                #expect(welcome.role == "member")
                try await connection.send(.push(
                    Push(through: 1, id: "crafted", after: welcome.push, counter: 1),
                    records: [ReplicatedRecord(collection: "reports", id: figure, state: state)]))
                guard case .pushed(let pushed) = try await connection.receive() else {
                    Issue.record("no pushed")
                    return
                }
                #expect(pushed.accepted == 0)
                #expect(pushed.rejected.map(\.code) == ["forbidden"])
            }
            #expect(try hub.store.records().first { $0.id == figure }?.state.displayValue(of: "value") == .integer(30))
            #expect(try hub.store.auditEntries(AuditFilter(collection: "reports", id: figure)).count == 1)
        }
    }

    @Test("a write made offline before the role was lowered is refused by the hub, kept pending with its reason, and sent again once the role allows it")
    func refusedKeptPending() async throws {
        try await withHub { hub in
            let secret = try hub.token(org: "ngo-a", name: "Ana", role: .coordinator)
            let a = TestReplica(store: try hub.replica(token: secret, name: "Ana (NGO-A)"))
            try await a.sync()
            try a.store.put("asks", id: "ask-budget", [("title", "Raise the budget"), ("category", "BudgetIncrease")])
            try a.store.put("organizations", id: "ngo-b", [("name", "NGO B"), ("type", "NGO")])
            let tokenID = try hub.store.tokens().first { $0.name == "Ana" }!.id
            try hub.store.setRole(tokenID: tokenID, .member)
            let summary = try await a.sync()
            #expect(summary.rejected.map(\.code) == ["forbidden"])
            #expect(summary.access != nil, "the replica is told its role changed")
            #expect(try a.store.pendingRejections().map(\.code) == ["forbidden"])
            #expect(try hub.store.records().map(\.id) == ["ask-budget"])
            // Offline, the replica now judges as a member.
            #expect(throws: MufakatError.self) { try a.store.put("organizations", id: "ngo-b", [("website", "https://b.example.org")]) }

            try hub.store.setRole(tokenID: tokenID, .coordinator)
            try await a.sync()
            #expect(try a.store.pendingRejections().isEmpty)
            #expect(try a.digest == hub.store.digest())
        }
    }

    @Test("a member raised to coordinator pulls again and receives every draft; lowered again, it drops them and its digest is the hub's for its token")
    func raisedRolePullsAgain() async throws {
        try await withHub { hub in
            let c = try Coalition(hub)
            try c.a.store.put("reports", id: Self.reportID(org: "ngo-a"), Self.report(org: "ngo-a"))
            try await c.a.sync()
            try await c.b.sync()
            #expect((try? c.b.store.get("reports", id: Self.reportID(org: "ngo-a"))) == nil)
            let budi = try hub.store.tokens().first { $0.name == "Budi" }!
            try hub.store.setRole(tokenID: budi.id, .coordinator)
            try await c.b.sync()
            #expect((try? c.b.store.get("reports", id: Self.reportID(org: "ngo-a"))) != nil)
            #expect(try c.b.digest == hub.store.digest())

            // Its own draft, not yet sent, stays; ngo-a's goes.
            try c.b.store.put("reports", id: Self.reportID(org: "ngo-b"), Self.report(org: "ngo-b"))
            try hub.store.setRole(tokenID: budi.id, .member)
            let lowered = try await c.b.sync()
            #expect(lowered.access?.contains("removed 1 draft") == true, "\(lowered.access ?? "no note")")
            #expect((try? c.b.store.get("reports", id: Self.reportID(org: "ngo-a"))) == nil)
            #expect((try? c.b.store.get("reports", id: Self.reportID(org: "ngo-b"))) != nil)
            #expect(try c.b.digest == hub.store.digest(for: Visibility(org: "ngo-b")))
        }
    }

    @Test("over real sessions the audit log chains every accepted change with who made it; history answers each token as far as it may see")
    func auditChain() async throws {
        try await withHub { hub in
            let c = try Coalition(hub)
            try c.lead.store.put("asks", id: "ask-budget", [("title", "Raise the budget"), ("category", "BudgetIncrease")])
            try await c.lead.sync()
            try await c.a.sync()
            try c.a.store.put("asks", id: "ask-budget", [("status", "Active")])
            try c.a.store.put("positions", id: "ngo-a:ask-budget", [("subject", "ngo-a"), ("ask", "ask-budget"), ("stance", "ActiveSupport")])
            try await c.a.sync()

            var entries = try hub.store.auditEntries()
            #expect(entries.map(\.entry) == [1, 2, 3, 4])
            #expect(entries[0].kind == "start")
            entries.removeFirst()
            #expect(entries[1].changes["status"] == AuditEntry.Change(old: nil, new: "Active"))
            #expect(entries[1].org == "ngo-a" && entries[1].role == "member" && entries[1].name == "Ana")
            #expect(entries[1].prev == entries[0].hash && entries[2].prev == entries[1].hash)
            #expect(try hub.store.verifyAudit().problems.isEmpty)
            #expect(try hub.store.auditEntries(AuditFilter(org: "lead")).count == 1)

            // History, as each token may see it.
            let history = try await SyncClient(store: c.b.store, timeout: .seconds(20)).history(collection: "asks", id: "ask-budget")
            #expect(history.found)
            #expect(history.entries.map(\.name) == ["Lia", "Ana"])
            let missing = try await SyncClient(store: c.b.store, timeout: .seconds(20)).history(collection: "asks", id: "ask-nothing")
            #expect(!missing.found)
        }
    }

    @Test("history: a draft edited and submitted in one sync shows other organizations none of its draft values")
    func publishedInOneChange() async throws {
        try await withHub { hub in
            let c = try Coalition(hub)
            let id = Self.reportID(org: "ngo-a")
            try c.a.store.put("reports", id: id, Self.report(org: "ngo-a") + [("notes", "internal: partner count unverified")])
            try await c.a.sync()
            try c.a.store.put("reports", id: id, [("value", "9"), ("notes", "checked")])
            try c.a.store.put("reports", id: id, [("status", "Submitted")])
            try await c.a.sync()
            let seen = try await SyncClient(store: c.b.store, timeout: .seconds(20)).history(collection: "reports", id: id)
            #expect(seen.entries.count == 1)
            #expect(seen.entries.allSatisfy { $0.changes.values.allSatisfy { $0.old == nil } }, "\(seen.entries)")
            // Nor the hash, computed over them: guesses could be tested against it.
            #expect(seen.entries.allSatisfy { $0.hash.isEmpty && $0.prev.isEmpty })
            #expect(seen.entries.first?.changes["value"]?.new == "9")
            // Its own organisation sees each write: the draft's edit, then the submission,
            // which lists the fields it published as they were.
            let own = try await SyncClient(store: c.a.store, timeout: .seconds(20)).history(collection: "reports", id: id)
            #expect(own.entries.dropLast().last?.changes["value"] == AuditEntry.Change(old: "7", new: "9"))
            #expect(own.entries.last?.changes["status"]?.new == "Submitted")
            #expect(own.entries.last?.changes["value"] == AuditEntry.Change(old: "9", new: "9"))
        }
    }

    @Test("a figure for another organization written before the first sync, refused by the hub, can be discarded; a stored record cannot")
    func discardRefused() async throws {
        try await withHub { hub in
            let b = TestReplica(store: try hub.replica(token: try hub.token(org: "ngo-b", name: "Budi", role: .member), name: "Budi (NGO-B)"))
            try b.store.put("reports", id: Self.reportID(org: "ngo-a"), Self.report(org: "ngo-a", status: "Submitted"))
            try b.store.put("asks", id: "ask-budget", [("title", "Raise the budget"), ("category", "BudgetIncrease")])
            let summary = try await b.sync()
            #expect(summary.rejected.map(\.code) == ["forbidden"])
            #expect(throws: MufakatError.self) { try b.store.discardRefused("asks", id: "ask-budget") }
            let values = try b.store.discardRefused("reports", id: Self.reportID(org: "ngo-a"))
            #expect(values["value"] == .integer(7))
            #expect(try b.store.pendingRejections().isEmpty)
            try await b.sync()
            #expect(try b.digest == hub.store.digest(for: Visibility(org: "ngo-b")))
        }
    }

    @Test("a push at the id of another organization's hidden draft gets the answer a free id gets")
    func noDraftOracle() async throws {
        try await withHub { hub in
            let c = try Coalition(hub)
            let id = Self.reportID(org: "ngo-a")
            let token = try hub.token(org: "ngo-b", name: "Mallory", role: .member)
            func answer() async throws -> String {
                let replica = ReplicaID.random()
                var state = RecordState()
                try state.write(
                    ["org": .string("ngo-b"), "period": .string("2026-10"), "country": .string("ID"), "indicator": .string("VictimsIdentified"), "value": .integer(1)],
                    dot: Dot(replica: replica, counter: 1), now: 1_790_000_000_000, author: "Mallory (NGO-B)")
                return try await RawHubConnection.with(hub) { connection in
                    guard case .welcome = try await connection.hello(replica: replica.rawValue, token: token) else { return "no welcome" }
                    try await connection.send(.push(Push(through: 1, id: "probe", after: "", counter: 1), records: [ReplicatedRecord(collection: "reports", id: id, state: state)]))
                    guard case .pushed(let pushed) = try await connection.receive() else { return "no pushed" }
                    return pushed.rejected.map { "\($0.code) \($0.fields)" }.joined()
                }
            }
            let free = try await answer()
            try c.a.store.put("reports", id: id, Self.report(org: "ngo-a"))
            try await c.a.sync()
            #expect(try await answer() == free)
            #expect(free.hasPrefix("bad-id"))
        }
    }

    @Test("history: another organization's draft is not found; once submitted, its draft-time entries stay out")
    func historyVisibility() async throws {
        try await withHub { hub in
            let c = try Coalition(hub)
            let id = Self.reportID(org: "ngo-a")
            try c.a.store.put("reports", id: id, Self.report(org: "ngo-a"))
            try await c.a.sync()
            let hidden = try await SyncClient(store: c.b.store, timeout: .seconds(20)).history(collection: "reports", id: id)
            #expect(!hidden.found)
            let own = try await SyncClient(store: c.a.store, timeout: .seconds(20)).history(collection: "reports", id: id)
            #expect(own.entries.count == 1)
            try c.a.store.put("reports", id: id, [("status", "Submitted")])
            try await c.a.sync()
            let published = try await SyncClient(store: c.b.store, timeout: .seconds(20)).history(collection: "reports", id: id)
            #expect(published.found)
            #expect(published.entries.map { $0.changes["status"]?.new } == ["Submitted"])
            #expect(published.omitted == 1)
        }
    }
}
