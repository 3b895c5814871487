import Foundation
import MufakatCore
import MufakatStore
import MufakatSync
import Testing

/// The write-rights rule table (PROTOCOL.md §6.10): for each collection and role, a write
/// allowed or refused — judged at the hub (``PushRules``, per pushed record) and offline by
/// the replica before it writes, which must agree.
@Suite("Write rights: the rule table, at the hub and offline")
struct WriteRightsTests {
    /// The member's organisation is ngo-a; ngo-b is another NGO; ministry a government body.
    static let own = "ngo-a"
    static let organizationTypes: [String: [String]] = ["ngo-a": ["NGO"], "ngo-b": ["NGO"], "ministry": ["CentralGovernment"]]

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var collection: String
        var id: String?
        /// The record as it is before the write (written by a coordinator), if it exists.
        var before: [String: FieldValue]?
        var write: [String: FieldValue]
        /// The verdict per role: "ok", or the refusal's code.
        var coordinator: String
        var member: String
        var observer = "forbidden"

        var testDescription: String { "\(collection): \(name)" }

        func verdict(_ role: Role) -> String {
            switch role {
            case .coordinator: coordinator
            case .member: member
            case .observer: observer
            }
        }

        /// The id: given, or what the collection's rule gives for the values.
        var recordID: String {
            if let id { return id }
            let schema = try! Catalogue.collection(named: collection)
            return schema.derivedID(for: (before ?? [:]).merging(write) { $1 })!
        }
    }

    static func report(org: String, status: String? = nil) -> [String: FieldValue] {
        var values: [String: FieldValue] = [
            "org": .string(org), "period": .string("2026-10"), "country": .string("ID"), "indicator": .string("VictimsAssisted"),
            "value": .integer(40),
        ]
        if let status { values["status"] = .string(status) }
        return values
    }

    static func position(_ subject: String) -> [String: FieldValue] {
        ["subject": .string(subject), "ask": .string("ask-budget"), "stance": .string("Neutral")]
    }

    static func action(owner: String, createdBy: String) -> [String: FieldValue] {
        ["title": .string("Send the letter"), "owner": .string(owner), "createdBy": .string(createdBy)]
    }

    static let cases: [Case] = [
        Case(name: "its own organization's record", collection: "organizations", id: "ngo-a",
             write: ["name": .string("NGO A"), "type": .string("NGO")], coordinator: "ok", member: "ok"),
        Case(name: "another organization's record", collection: "organizations", id: "ngo-b",
             before: ["name": .string("NGO B"), "type": .string("NGO")], write: ["website": .string("https://b.example.org")],
             coordinator: "ok", member: "forbidden"),
        Case(name: "a new figure of its own", collection: "reports", write: report(org: own), coordinator: "ok", member: "ok"),
        Case(name: "a new figure of another organization", collection: "reports", write: report(org: "ngo-b"),
             coordinator: "ok", member: "forbidden"),
        Case(name: "an edit of another organization's figure", collection: "reports", before: report(org: "ngo-b"),
             write: ["value": .integer(41)], coordinator: "ok", member: "forbidden"),
        Case(name: "a draft submitted", collection: "reports", before: report(org: own, status: "Draft"),
             write: ["status": .string("Submitted")], coordinator: "ok", member: "ok"),
        Case(name: "a submitted figure back to draft", collection: "reports", before: report(org: own, status: "Submitted"),
             write: ["status": .string("Draft")], coordinator: "backward-status", member: "backward-status"),
        Case(name: "a validated figure retracted", collection: "reports", before: report(org: own, status: "Validated"),
             write: ["status": .string("Retracted")], coordinator: "ok", member: "ok"),
        Case(name: "a figure validated", collection: "reports", before: report(org: own, status: "Submitted"),
             write: ["status": .string("Validated")], coordinator: "ok", member: "forbidden"),
        Case(name: "a new figure entered as validated", collection: "reports", write: report(org: own, status: "Validated"),
             coordinator: "ok", member: "forbidden"),
        Case(name: "a status cleared", collection: "reports", before: report(org: own, status: "Submitted"),
             write: ["status": .null], coordinator: "backward-status", member: "backward-status"),
        Case(name: "a joint ask created", collection: "asks", id: "ask-budget",
             write: ["title": .string("Raise the budget"), "category": .string("BudgetIncrease")], coordinator: "ok", member: "ok"),
        Case(name: "a joint ask edited", collection: "asks", id: "ask-budget",
             before: ["title": .string("Raise the budget"), "category": .string("BudgetIncrease")], write: ["status": .string("Active")],
             coordinator: "ok", member: "ok"),
        Case(name: "its own position", collection: "positions", id: "ngo-a:ask-budget", write: position(own),
             coordinator: "ok", member: "ok"),
        Case(name: "a government body's position", collection: "positions", id: "ministry:ask-budget", write: position("ministry"),
             coordinator: "ok", member: "ok"),
        Case(name: "a government body's position assessed by its own organization", collection: "positions", id: "ministry:ask-budget",
             write: position("ministry").merging(["assessedBy": .string(own)]) { $1 }, coordinator: "ok", member: "ok"),
        Case(name: "a government body's position put to another organization's name", collection: "positions", id: "ministry:ask-budget",
             before: position("ministry"), write: ["assessedBy": .string("ngo-b")], coordinator: "ok", member: "forbidden"),
        Case(name: "another member's position", collection: "positions", id: "ngo-b:ask-budget", before: position("ngo-b"),
             write: ["stance": .string("ActiveSupport")], coordinator: "ok", member: "forbidden"),
        Case(name: "a meeting", collection: "meetings", id: "mtg-2026-11",
             write: ["date": .string("2026-11-12"), "title": .string("Monthly coordination")], coordinator: "ok", member: "ok"),
        Case(name: "an action it creates for another owner", collection: "actions", id: "act-letter",
             write: action(owner: "ngo-b", createdBy: own), coordinator: "ok", member: "ok"),
        Case(name: "an action it owns, created by another", collection: "actions", id: "act-letter",
             before: action(owner: own, createdBy: "ngo-b"), write: ["due": .string("2026-12-01")], coordinator: "ok", member: "ok"),
        Case(name: "another's action", collection: "actions", id: "act-letter", before: action(owner: "ngo-b", createdBy: "ngo-b"),
             write: ["due": .string("2026-12-01")], coordinator: "ok", member: "forbidden"),
        Case(name: "an action handed to another owner", collection: "actions", id: "act-letter",
             before: action(owner: own, createdBy: "ngo-b"), write: ["owner": .string("ngo-b")], coordinator: "ok", member: "forbidden"),
        Case(name: "an action claimed by taking its ownership", collection: "actions", id: "act-letter",
             before: action(owner: "ngo-b", createdBy: "ngo-b"), write: ["owner": .string(own)], coordinator: "ok", member: "forbidden"),
        Case(name: "a new action naming another organization as its creator", collection: "actions", id: "act-letter",
             write: action(owner: own, createdBy: "ngo-b"), coordinator: "ok", member: "forbidden"),
        Case(name: "an action's creator rewritten by its owner", collection: "actions", id: "act-letter",
             before: action(owner: own, createdBy: "ngo-b"), write: ["createdBy": .string(own)], coordinator: "ok", member: "forbidden"),
    ]

    static let coordinatorReplica = try! ReplicaID("c0c0c0c0c0c0c0c0")
    static let pusher = try! ReplicaID("a1a1a1a1a1a1a1a1")

    @Test("the hub stores or refuses each pushed write as the table says", arguments: cases)
    func atTheHub(_ rule: Case) throws {
        var stored: RecordState?
        if let before = rule.before {
            var state = RecordState()
            try state.write(before, dot: Dot(replica: Self.coordinatorReplica, counter: 1), now: 1_780_000_000_000, author: "Coord (LEAD)")
            stored = state
        }
        var pushed = stored ?? RecordState()
        try pushed.write(rule.write, dot: Dot(replica: Self.pusher, counter: 1), now: 1_780_000_100_000, author: "Member (NGO-A)")
        let record = ReplicatedRecord(collection: rule.collection, id: rule.recordID, state: pushed)
        for role in Role.allCases {
            let admission = PushRules().admit(
                record, stored: stored, pusher: Self.pusher, counter: 1, catalogue: true, writer: Writer(org: Self.own, role: role),
                organizationTypes: { Self.organizationTypes[$0] ?? [] })
            let verdict: String
            switch admission {
            case .store: verdict = "ok"
            case .unchanged: verdict = "unchanged"
            case .reject(let rejection): verdict = rejection.code.rawValue
            }
            #expect(verdict == rule.verdict(role), "\(role.rawValue): \(admission)")
        }
    }

    @Test("the replica refuses offline exactly what the hub refuses, and writes nothing then", arguments: cases)
    func offline(_ rule: Case) async throws {
        for role in Role.allCases {
            // What the replica holds came from the hub: a coordinator's writes, pulled.
            let store = try ReplicaStore.inMemory(name: "Someone (NGO-A)")
            _ = try await store.noteAccess(Writer(org: Self.own, role: role))
            var pulled: [ReplicatedRecord] = []
            var counter: UInt64 = 0
            func fromHub(_ collection: String, _ id: String, _ values: [String: FieldValue]) throws {
                counter += 1
                var state = RecordState()
                try state.write(values, dot: Dot(replica: Self.coordinatorReplica, counter: counter), now: 1_780_000_000_000, author: "Coord (LEAD)")
                pulled.append(ReplicatedRecord(collection: collection, id: id, state: state))
            }
            try fromHub("organizations", "ministry", ["name": .string("Ministry"), "type": .string("CentralGovernment")])
            try fromHub("organizations", "ngo-b", ["name": .string("NGO B"), "type": .string("NGO")])
            if let before = rule.before { try fromHub(rule.collection, rule.recordID, before) }
            _ = try await store.applyPulled(pulled, through: counter)
            let digest = try store.digest()
            let verdict: String
            do {
                try store.put(rule.collection, id: rule.recordID, rule.write.map { ($0.key, $0.value.text) })
                verdict = "ok"
            } catch let error as MufakatError {
                verdict = error.code == .forbidden ? "forbidden" : error.message.contains("only moves forward") ? "backward-status" : "invalid: \(error.message)"
                #expect(try store.digest() == digest, "a refused write changed the replica")
            }
            #expect(verdict == rule.verdict(role), "\(role.rawValue)")
        }
    }

    @Test("re-seed mode: a relayed write is judged by the relayer's token, since it cannot be told from one made up")
    func relayed() throws {
        let other = try ReplicaID("b2b2b2b2b2b2b2b2")
        var state = RecordState()
        try state.write(Self.report(org: "ngo-b"), dot: Dot(replica: other, counter: 4), now: 1_780_000_000_000, author: "Someone (NGO-B)")
        let record = ReplicatedRecord(collection: "reports", id: Catalogue.reports.derivedID(for: Self.report(org: "ngo-b"))!, state: state)
        func verdict(_ writer: Writer) -> String {
            switch PushRules(relay: true).admit(
                record, stored: nil, pusher: Self.pusher, counter: 1, catalogue: true, writer: writer, organizationTypes: { _ in [] })
            {
            case .store: "ok"
            case .unchanged: "unchanged"
            case .reject(let rejection): rejection.code.rawValue
            }
        }
        #expect(verdict(Writer(org: Self.own, role: .member)) == "forbidden")
        #expect(verdict(Writer(org: "ngo-b", role: .member)) == "ok")
        #expect(verdict(Writer(org: "ngo-b", role: .observer)) == "forbidden")
        #expect(verdict(Writer(org: "lead", role: .coordinator)) == "ok")
    }

    @Test("a push that only widens a record's context is a change too: refused to an observer and to a member not owning the record")
    func contextOnly() throws {
        var stored = RecordState()
        try stored.write(Self.report(org: "ngo-b"), dot: Dot(replica: Self.coordinatorReplica, counter: 1), now: 1_780_000_000_000, author: "Coord (LEAD)")
        let widened = try RecordState(context: stored.context.merging([Self.pusher: 1]), fields: stored.fields)
        let record = ReplicatedRecord(collection: "reports", id: Catalogue.reports.derivedID(for: Self.report(org: "ngo-b"))!, state: widened)
        for (writer, expected) in [
            (Writer(org: "ngo-b", role: .observer), "forbidden"), (Writer(org: Self.own, role: .member), "forbidden"),
            (Writer(org: "ngo-b", role: .member), "store"),
        ] {
            let admission = PushRules().admit(
                record, stored: stored, pusher: Self.pusher, counter: 1, catalogue: true, writer: writer, organizationTypes: { _ in [] })
            switch admission {
            case .reject(let rejection): #expect(rejection.code.rawValue == expected, "\(writer)")
            case .store: #expect(expected == "store", "\(writer)")
            case .unchanged: Issue.record("unchanged for \(writer)")
            }
        }
    }

    @Test("offline: a record the hub never stored (written before the first sync, then refused) is judged as new, so it can be corrected")
    func neverStored() async throws {
        let store = try ReplicaStore.inMemory(name: "Someone (NGO-A)")
        // Before the first sync the replica knows no role: the action is written as typed.
        let created = try store.new("actions", [("title", "Call the ministry"), ("owner", "ministry")])
        #expect(try store.get("actions", id: created.id).document["createdBy"] == nil)
        _ = try await store.noteAccess(Writer(org: Self.own, role: .member))
        // Judged against what it held, the member could never fix it; as new, it can.
        try store.put("actions", id: created.id, [("createdBy", Self.own)])
        #expect(try store.get("actions", id: created.id).document["createdBy"] == .string(Self.own))
    }

    @Test("offline: a member's new action records its organization as creator; a delete is judged too")
    func offlineOtherWrites() async throws {
        let store = try ReplicaStore.inMemory(name: "Someone (NGO-A)")
        _ = try await store.noteAccess(Writer(org: "lead", role: .coordinator))
        try store.put("reports", id: Catalogue.reports.derivedID(for: Self.report(org: "ngo-b"))!, Self.report(org: "ngo-b").map { ($0.key, $0.value.text) })
        _ = try await store.noteAccess(Writer(org: Self.own, role: .member))
        let created = try store.new("actions", [("title", "Call the ministry"), ("owner", "ngo-b")])
        #expect(try store.get("actions", id: created.id).document["createdBy"] == .string(Self.own))
        let other = Catalogue.reports.derivedID(for: Self.report(org: "ngo-b"))!
        #expect(throws: MufakatError.self) { try store.delete("reports", id: other) }
        do {
            try store.delete("reports", id: other)
        } catch let error as MufakatError {
            #expect(error.code == .forbidden)
            #expect(error.message.contains("nothing was written"))
        }
        #expect(try store.get("reports", id: other).deleted == false)
    }

    /// A review found a member unable to delete its own validated figure (a delete writes
    /// every value again), and a member's words left under another organisation's assessedBy.
    @Test("offline and at the hub: rewriting a value a record held is no new claim; a member's assessment carries its own name")
    func valuesHeldAndAssessments() async throws {
        // What the replica holds came from the hub: a coordinator's writes, pulled.
        let store = try ReplicaStore.inMemory(name: "Someone (NGO-A)")
        _ = try await store.noteAccess(Writer(org: Self.own, role: .member))
        let figure = Catalogue.reports.derivedID(for: Self.report(org: Self.own))!
        var pulled: [ReplicatedRecord] = []
        for (collection, id, values) in [
            ("organizations", "ministry", ["name": FieldValue.string("Ministry"), "type": .string("CentralGovernment")]),
            ("asks", "ask-budget", ["title": .string("Raise the budget"), "category": .string("BudgetIncrease")]),
            ("reports", figure, Self.report(org: Self.own, status: "Validated")),
            ("positions", "ministry:ask-budget", Self.position("ministry").merging(["assessedBy": .string("lead")]) { $1 }),
        ] {
            var state = RecordState()
            try state.write(values, dot: Dot(replica: Self.coordinatorReplica, counter: UInt64(pulled.count + 1)), now: 1_780_000_000_000, author: "Coord (LEAD)")
            pulled.append(ReplicatedRecord(collection: collection, id: id, state: state))
        }
        _ = try await store.applyPulled(pulled, through: UInt64(pulled.count))
        // Its own validated figure: deleted and restored by the member, Validated kept.
        #expect(try store.delete("reports", id: figure).action == "deleted")
        #expect(try store.restore("reports", id: figure).action == "restored")
        #expect(throws: MufakatError.self) { try store.put("reports", id: figure, [("status", "Submitted"), ("value", "41")]) }
        // A member's stance on the ministry's position is its assessment: mufakat names it.
        try store.put("positions", id: "ministry:ask-budget", [("stance", "ActiveOpposition"), ("statement", "Minister refuses")])
        #expect(try store.get("positions", id: "ministry:ask-budget").document["assessedBy"] == .string(Self.own))
        // Clearing it is refused.
        #expect(throws: MufakatError.self) { try store.put("positions", id: "ministry:ask-budget", [("assessedBy", "")]) }

        // At the hub, a crafted push that changes the stance and leaves lead's name standing.
        var stored = RecordState()
        try stored.write(
            Self.position("ministry").merging(["assessedBy": .string("lead")]) { $1 }, dot: Dot(replica: Self.coordinatorReplica, counter: 1),
            now: 1_780_000_000_000, author: "Coord (LEAD)")
        var pushed = stored
        try pushed.write(["stance": .string("ActiveOpposition")], dot: Dot(replica: Self.pusher, counter: 1), now: 1_780_000_100_000, author: "Member (NGO-A)")
        let refusal = WriteRights.refusal(
            writer: Writer(org: Self.own, role: .member), schema: Catalogue.positions, id: "ministry:ask-budget", before: stored, after: pushed,
            organizationTypes: { Self.organizationTypes[$0] ?? [] })
        #expect(refusal?.fields == ["assessedBy"])
        // Deleting it rewrites lead's name as it stood: allowed.
        var deleted = stored
        try deleted.delete(dot: Dot(replica: Self.pusher, counter: 2), now: 1_780_000_200_000, author: "Member (NGO-A)")
        #expect(WriteRights.refusal(
            writer: Writer(org: Self.own, role: .member), schema: Catalogue.positions, id: "ministry:ask-budget", before: stored, after: deleted,
            organizationTypes: { Self.organizationTypes[$0] ?? [] }) == nil)
    }
}
