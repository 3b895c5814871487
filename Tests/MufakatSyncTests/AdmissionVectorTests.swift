import Foundation
import MufakatCore
import MufakatSync
import Testing

/// `protocol/vectors/records/admission.json`: what a hub does with one pushed record line
/// given the state it holds (PROTOCOL.md §6.4, §7.1) — one case per verdict and refusal code.
/// `MUFAKAT_WRITE_VECTORS=1` rewrites the file after a deliberate change.
@Suite("Admission vectors: one pushed record against the hub's state")
struct AdmissionVectorTests {
    struct Case: Codable, Equatable {
        var name: String
        var description: String
        /// The pushing replica and the `counter` its push declared.
        var pusher: String
        var counter: UInt64
        var reseed: Bool
        /// The hub's state of the record, as a canonical record line; null when it holds none.
        var stored: String?
        /// The pushed record line, as sent.
        var pushed: String
        /// The hub's dot index where the case needs one: `replica:counter` → the record
        /// (`collection/id`) that dot was first stored in (§6.4 rule 5).
        var owners: [String: String]?
        /// The organisation and role of the pusher's token (§6.10); absent: a coordinator's.
        var writer: WriterDocument?
        /// The `type` of organisations the hub holds, where the case needs them (§6.10).
        var organizations: [String: [String]]?
        var expect: Expectation
    }

    struct WriterDocument: Codable, Equatable {
        var org: String
        var role: String
    }

    struct Expectation: Codable, Equatable {
        /// `store`, `unchanged` or `reject`.
        var verdict: String
        /// `store`: the state the hub then holds, as a canonical record line.
        var state: String?
        var code: String?
        var fields: [String]?
        /// `reused-dot`: the dots of `pushed.rejected[].dots`.
        var dots: [String]?
    }

    struct File: Codable, Equatable {
        var description: String
        var cases: [Case]
    }

    static let file = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("protocol/vectors/records/admission.json")

    static let pusher = try! ReplicaID("a1b2c3d4e5f60718")
    static let other = try! ReplicaID("0f0e0d0c0b0a0908")
    static let position: [String: FieldValue] = ["subject": .string("kemnaker"), "ask": .string("ask-budget"), "stance": .string("Neutral")]
    static let report: [String: FieldValue] = [
        "org": .string("iom"), "period": .string("2025-Q3"), "country": .string("ID"),
        "indicator": .string("VictimsIdentified"), "value": .integer(12),
    ]

    static func state(_ writes: [(ReplicaID, UInt64, [String: FieldValue])], base: RecordState = RecordState()) -> RecordState {
        var state = base
        for (replica, counter, values) in writes {
            try! state.write(values, dot: Dot(replica: replica, counter: counter), now: 1_764_400_000_000 + Int64(counter), author: replica == pusher ? "Andi (IOM)" : "Sari (UNICEF)")
        }
        return state
    }

    static func line(_ collection: String, _ id: String, _ state: RecordState) -> String {
        ReplicatedRecord(collection: collection, id: id, state: state).canonicalJSON
    }

    /// The cases, with their verdicts as this code gives them.
    static func generate() throws -> [Case] {
        let rules = PushRules()
        let reportID = Catalogue.reports.derivedID(for: report)!
        let hubPosition = state([(other, 3, position)])
        var cases: [Case] = []
        func add(
            _ name: String, _ description: String, stored: (String, String, RecordState)?, pushed: String, counter: UInt64 = 10,
            owners: [Dot: RecordKey]? = nil, writer: Writer? = nil, organizations: [String: [String]]? = nil
        ) throws {
            var text = pushed
            let record = try text.withUTF8 { bytes in try ReplicatedRecord.decode(utf8: UnsafeRawBufferPointer(bytes), form: nil) }
            let admission = rules.admit(
                record, stored: stored?.2, pusher: pusher, counter: counter, catalogue: true,
                writer: writer ?? Writer(org: "lead", role: .coordinator), organizationTypes: { organizations?[$0] ?? [] },
                owner: { owners?[$0] })
            let expect: Expectation
            switch admission {
            case .store(let merged): expect = Expectation(verdict: "store", state: line(record.collection, record.id, merged))
            case .unchanged: expect = Expectation(verdict: "unchanged")
            case .reject(let rejection):
                expect = Expectation(
                    verdict: "reject", code: rejection.code.rawValue, fields: rejection.fields,
                    dots: rejection.dots.isEmpty ? nil : rejection.dots.map(\.description))
            }
            cases.append(Case(
                name: name, description: description, pusher: pusher.rawValue, counter: counter, reseed: false,
                stored: stored.map { line($0.0, $0.1, $0.2) }, pushed: pushed,
                owners: owners.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.key.description, "\($0.value.collection)/\($0.value.id)") }) },
                writer: writer.map { WriterDocument(org: $0.org, role: $0.role.rawValue) }, organizations: organizations,
                expect: expect))
        }
        let positionLine = { (state: RecordState) in line("positions", "kemnaker:ask-budget", state) }
        let hub = ("positions", "kemnaker:ask-budget", hubPosition)

        try add("store-new", "a record the hub does not hold, written by the pusher: stored as sent", stored: nil,
                pushed: line("reports", reportID, state([(pusher, 1, report)])))
        try add("unchanged", "the hub already holds exactly this state (a resend)", stored: hub, pushed: positionLine(hubPosition))
        try add("store-conflict", "a write concurrent with the hub's (its context lacks the hub's dot): both entries kept, a conflict",
                stored: hub, pushed: positionLine(state([(pusher, 1, position.merging(["stance": .string("PassiveSupport")]) { $1 })])))
        try add("store-overwrite", "a write that saw the hub's (its context holds the hub's dot): it replaces the hub's entry",
                stored: hub, pushed: positionLine(state([(pusher, 1, ["stance": .string("PassiveSupport")])], base: hubPosition)))
        try add("invalid-collection", "an unknown collection", stored: nil,
                pushed: line("people", "p-1", state([(pusher, 1, ["name": .string("x")])])))
        try add("invalid-field", "an unknown field", stored: nil,
                pushed: line("reports", reportID, state([(pusher, 1, report.merging(["colour": .string("red")]) { $1 })])))
        try add("invalid-stored-form", "a value not in its stored form: text with a trailing space", stored: nil,
                pushed: line("reports", reportID, state([(pusher, 1, report.merging(["notes": .string("Checked ")]) { $1 })])))
        try add("invalid-enum-case", "an enumeration value not spelled as listed", stored: hub,
                pushed: positionLine(state([(pusher, 1, ["stance": .string("neutral")])], base: hubPosition)))
        try add("invalid-no-fields", "a record with no fields",
                stored: nil, pushed: #"{"collection":"asks","context":{"a1b2c3d4e5f60718":1},"fields":{},"id":"ask-1"}"#)
        try add("invalid-time", "an entry time after 2100",
                stored: nil, pushed: #"{"collection":"asks","context":{"a1b2c3d4e5f60718":1},"fields":{"category":[{"author":"A","dot":["a1b2c3d4e5f60718",1],"time":4102444800001,"value":"Other"}],"title":[{"author":"A","dot":["a1b2c3d4e5f60718",1],"time":4102444800001,"value":"x"}]},"id":"ask-1"}"#)
        try add("invalid-number", "a value of 2^63: the record is refused alone, naming the field",
                stored: nil, pushed: #"{"collection":"reports","context":{"a1b2c3d4e5f60718":1},"fields":{"value":[{"author":"A","dot":["a1b2c3d4e5f60718",1],"time":1,"value":9223372036854775808}]},"id":"r-0123456789abcdef0123"}"#)
        try add("counter-beyond", "the pusher's own context entry (12) above the counter its push declared (10)", stored: nil,
                pushed: line("reports", reportID, state([(pusher, 12, report)])))
        try add("forged-dot", "a write of another replica the hub has not seen", stored: nil,
                pushed: line("reports", reportID, state([(other, 1, report)])))
        try add("corruption", "the hub's dot with another value", stored: hub,
                pushed: positionLine(state([(other, 3, position.merging(["stance": .string("ActiveSupport")]) { $1 })])))
        // The hub holds other:4 in another record (its dot index says so); this record's
        // state claims other:4 through other:5 without holding it: the pushed entry under
        // other:4 is a second write under that dot, which merging would drop.
        let reusedHub = state([(other, 5, ["statement": .string("Under review")])], base: hubPosition)
        var reusedPushed = hubPosition
        reusedPushed = try RecordState(
            context: reusedPushed.context.merging([other: 4]),
            fields: reusedPushed.fields.merging(["statement": [FieldEntry(
                dot: Dot(replica: other, counter: 4), value: .string("The ministry will fund shelters"),
                time: 1_764_400_000_004, author: "Sari (UNICEF)")]]) { $1 })
        try add("reused-dot", "an entry the hub does not hold in this record, under a dot its index names for another record (a replica id that wrote twice under one dot)",
                stored: ("positions", "kemnaker:ask-budget", reusedHub), pushed: positionLine(reusedPushed),
                owners: [Dot(replica: other, counter: 4): RecordKey(collection: "positions", id: "kemnaker:ask-shelters")])
        try add("removes-entry", "a context that covers the hub's entry but no new write to the field: it would erase a value",
                stored: hub, pushed: #"{"collection":"positions","context":{"0f0e0d0c0b0a0908":3,"a1b2c3d4e5f60718":1},"fields":{"ask":[{"author":"Sari (UNICEF)","dot":["0f0e0d0c0b0a0908",3],"time":1764400000003,"value":"ask-budget"}],"subject":[{"author":"Sari (UNICEF)","dot":["0f0e0d0c0b0a0908",3],"time":1764400000003,"value":"kemnaker"}]},"id":"kemnaker:ask-budget"}"#)
        try add("bad-id-hash", "a report whose id is not the hash of its key fields", stored: nil,
                pushed: line("reports", "r-00000000000000000000", state([(pusher, 1, report)])))
        try add("bad-id-composite", "a position whose id is not <subject>:<ask>", stored: nil,
                pushed: line("positions", "kemnaker:ask-other", state([(pusher, 1, position)])))
        try add("bad-id-slug", "an organization id that is not a slug", stored: nil,
                pushed: line("organizations", "Kemnaker", state([(pusher, 1, ["name": .string("Kemnaker"), "type": .string("CentralGovernment")])])))
        try add("bad-id-key-change", "a write changing a key field of a record the hub holds", stored: hub,
                pushed: positionLine(state([(pusher, 1, ["subject": .string("bappenas")])], base: hubPosition)))
        try add("missing-field", "a new live record without its required fields", stored: nil,
                pushed: line("asks", "ask-1", state([(pusher, 1, ["text": .string("More budget.")])])))
        try add("store-legacy-tombstone", "a deleted record whose fields are all null (versions before whole deletes): not checked for id or required fields",
                stored: nil, pushed: line("reports", reportID, state([(pusher, 1, ["_deleted": .bool(true), "value": .null])])))
        // Write rights (§6.10): the pusher's token is a member's or an observer's.
        let unicef = Writer(org: "unicef", role: .member)
        try add("store-member-own", "a member writes a figure of its own organization", stored: nil,
                pushed: line("reports", reportID, state([(pusher, 1, report)])), writer: Writer(org: "iom", role: .member))
        try add("forbidden-member-other", "a member writes a figure of another organization", stored: nil,
                pushed: line("reports", reportID, state([(pusher, 1, report)])), writer: unicef)
        try add("store-member-government", "a member writes a government body's position (its organizations record says CentralGovernment)",
                stored: hub, pushed: positionLine(state([(pusher, 1, ["stance": .string("PassiveSupport")])], base: hubPosition)),
                writer: unicef, organizations: ["kemnaker": ["CentralGovernment"]])
        try add("forbidden-member-not-government", "the same write when the hub holds kemnaker as an NGO",
                stored: hub, pushed: positionLine(state([(pusher, 1, ["stance": .string("PassiveSupport")])], base: hubPosition)),
                writer: unicef, organizations: ["kemnaker": ["NGO"]])
        try add("forbidden-observer", "an observer writes a joint ask", stored: nil,
                pushed: line("asks", "ask-1", state([(pusher, 1, ["title": .string("More budget"), "category": .string("BudgetIncrease")])])),
                writer: Writer(org: "iom", role: .observer))
        let submitted = state([(other, 3, report.merging(["status": .string("Submitted")]) { $1 })])
        try add("backward-status", "a figure's status moved from Submitted back to Draft, even by a coordinator",
                stored: ("reports", reportID, submitted),
                pushed: line("reports", reportID, state([(pusher, 1, ["status": .string("Draft")])], base: submitted)))
        return cases
    }

    @Test("the file matches the rules, case by case")
    func vectors() throws {
        let generated = try Self.generate()
        if ProcessInfo.processInfo.environment["MUFAKAT_WRITE_VECTORS"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let file = File(
                description: "What a hub does with one pushed record line (PROTOCOL.md §6.4, §7.1): given the state it holds ('stored', null for none), the pusher and the counter its push declared, outside re-seed mode. 'expect' is 'store' with the state then held, 'unchanged', or 'reject' with the code and fields of pushed.rejected.",
                cases: generated)
            try (encoder.encode(file) + Data("\n".utf8)).write(to: Self.file)
        }
        let stored = try JSONDecoder().decode(File.self, from: Data(contentsOf: Self.file))
        #expect(stored.cases.count == generated.count)
        for (file, live) in zip(stored.cases, generated) {
            #expect(file == live, "\(live.name)")
        }
        let codes = Set(generated.compactMap(\.expect.code))
        // `unvouched` is a relay's refusal (protocol 5), not a pushed record's: RelayTests covers it.
        #expect(codes == Set(RecordRejection.Code.allCases.map(\.rawValue)).subtracting(["unvouched"]), "one case per refusal code at least")
    }
}
