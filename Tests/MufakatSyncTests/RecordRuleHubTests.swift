import Foundation
import MufakatCore
import MufakatSync
import MufakatTesting
import MufakatWire
import NIOCore
import Testing

/// The hub's per-record refusals (PROTOCOL.md §6.4, §7.1) over a real connection: each
/// refused record is named with its code and fields, the rest of the push is stored, and
/// the session goes on.
@Suite("Hub record rules: ids, required fields, stored forms, numbers")
struct RecordRuleHubTests {
    static let pusher = try! ReplicaID("a1b2c3d4e5f60718")

    static func record(_ collection: String, _ id: String, _ values: [String: FieldValue], counter: UInt64) -> ReplicatedRecord {
        var state = RecordState()
        try! state.write(values, dot: Dot(replica: pusher, counter: counter), now: 1_764_400_000_000, author: "Raw (Test)")
        return ReplicatedRecord(collection: collection, id: id, state: state)
    }

    static let report: [String: FieldValue] = [
        "org": .string("iom"), "period": .string("2025-Q3"), "country": .string("ID"),
        "indicator": .string("VictimsIdentified"), "value": .integer(12),
    ]

    @Test("bad-id, missing-field and invalid (stored form, numbers out of range) refuse one record each; the others are stored",
          arguments: [WireProtocol.version, 2])
    func perRecordCodes(_ version: Int) async throws {
        let form = RecordForm(protocolVersion: version)
        try await withHub { hub in
            let token = try hub.token()
            let goodID = Catalogue.reports.derivedID(for: Self.report)!
            let records = [
                Self.record("reports", goodID, Self.report, counter: 1),
                Self.record("reports", "r-00000000000000000000", Self.report, counter: 2),
                Self.record("positions", "kemnaker:ask-other", [
                    "subject": .string("kemnaker"), "ask": .string("ask-budget"), "stance": .string("Neutral"),
                ], counter: 3),
                Self.record("organizations", "Not-A-Slug", ["name": .string("Not a slug"), "type": .string("NGO")], counter: 4),
                Self.record("asks", "ask-x", ["text": .string("Raise the budget.")], counter: 5),
                Self.record("reports", Catalogue.reports.derivedID(for: Self.report.merging(["area": .string("Riau")]) { $1 })!,
                            Self.report.merging(["area": .string("Riau"), "notes": .string("Trailing ")]) { $1 }, counter: 6),
                Self.record("reports", Catalogue.reports.derivedID(for: Self.report.merging(["area": .string("Aceh")]) { $1 })!,
                            Self.report.merging(["area": .string("Aceh"), "country": .string("id")]) { $1 }, counter: 7),
            ]
            // One more line, written by hand: a value of 2^63 — refused alone, not the session.
            let huge = form == .expanded
                ? #"{"collection":"reports","context":{"a1b2c3d4e5f60718":8},"fields":{"value":[{"author":"Raw (Test)","dot":["a1b2c3d4e5f60718",8],"time":1764400000000,"value":9223372036854775808}]},"id":"r-11111111111111111111"}"#
                : #"{"collection":"reports","context":{"a1b2c3d4e5f60718":8},"dots":[["a1b2c3d4e5f60718",8,1764400000000,"Raw (Test)"]],"fields":{"value":[[0,9223372036854775808]]},"id":"r-11111111111111111111"}"#
            let header = #"{"after":"","counter":8,"id":"p1","through":8,"type":"push"}"#
            let body = ([header] + records.map { $0.line(form) } + [huge]).joined(separator: "\n") + "\n"
            var bytes = ByteBuffer()
            bytes.writeWireFrame(WireFrame(flags: [], body: ByteBuffer(string: body)))

            try await RawHubConnection.with(hub) { connection in
                guard case .welcome = try await connection.hello(replica: Self.pusher.rawValue, token: token, version: version) else {
                    Issue.record("no welcome")
                    return
                }
                try await connection.send(bytes: bytes)
                guard case .pushed(let pushed) = try await connection.receive() else {
                    Issue.record("no pushed")
                    return
                }
                #expect(pushed.accepted == 1)
                #expect(pushed.rejectedCount == 7)
                let byID = Dictionary(uniqueKeysWithValues: pushed.rejected.map { ($0.id, ($0.code, $0.fields)) })
                #expect(byID["r-00000000000000000000"]?.0 == "bad-id")
                #expect(byID["kemnaker:ask-other"]?.0 == "bad-id")
                #expect(byID["kemnaker:ask-other"]?.1 == ["ask", "subject"])
                #expect(byID["Not-A-Slug"]?.0 == "bad-id")
                #expect(byID["ask-x"]?.0 == "missing-field")
                #expect(byID["ask-x"]?.1 == ["category", "title"])
                let trailing = Catalogue.reports.derivedID(for: Self.report.merging(["area": .string("Riau")]) { $1 })!
                #expect(byID[trailing]?.0 == "invalid")
                #expect(byID[trailing]?.1 == ["notes"])
                let lowerCountry = Catalogue.reports.derivedID(for: Self.report.merging(["area": .string("Aceh")]) { $1 })!
                #expect(byID[lowerCountry]?.1 == ["country"])
                #expect(byID["r-11111111111111111111"]?.0 == "invalid")
                #expect(byID["r-11111111111111111111"]?.1 == ["value"])
                // The session goes on.
                try await connection.send(.ping(Ping(nonce: 7)))
                #expect(try await connection.receive() == .pong(Ping(nonce: 7)))
            }
            #expect(try hub.store.records().map(\.id) == [goodID])
        }
    }

    @Test("a record stored before a rule existed can still be edited; a new write to a key field is checked")
    func onlyNewWritesAreChecked() async throws {
        // Under the rules alone (no connection): a stored state lacking a required field
        // takes an edit of another field; an edit that changes a key field is bad-id.
        let rules = PushRules()
        var stored = RecordState()
        try stored.write(["title": .string("Budget")], dot: Dot(replica: Self.pusher, counter: 1), now: 1, author: "A")
        var edited = stored
        try edited.write(["text": .string("More.")], dot: Dot(replica: Self.pusher, counter: 2), now: 2, author: "A")
        let edit = ReplicatedRecord(collection: "asks", id: "ask-1", state: edited)
        guard case .store = rules.admit(edit, stored: stored, pusher: Self.pusher, counter: 2, catalogue: true) else {
            Issue.record("an edit of a record stored before the rule was refused")
            return
        }
        guard case .reject(let missing) = rules.admit(edit, stored: nil, pusher: Self.pusher, counter: 2, catalogue: true) else {
            Issue.record("a new record without its required fields was stored")
            return
        }
        #expect(missing.code == .missingField)

        let position: [String: FieldValue] = ["subject": .string("kemnaker"), "ask": .string("ask-1"), "stance": .string("Neutral")]
        var hubPosition = RecordState()
        try hubPosition.write(position, dot: Dot(replica: Self.pusher, counter: 1), now: 1, author: "A")
        var moved = hubPosition
        try moved.write(["subject": .string("bappenas")], dot: Dot(replica: Self.pusher, counter: 2), now: 2, author: "A")
        guard case .reject(let badID) = rules.admit(
            ReplicatedRecord(collection: "positions", id: "kemnaker:ask-1", state: moved), stored: hubPosition, pusher: Self.pusher,
            counter: 2, catalogue: true)
        else {
            Issue.record("a key change was stored")
            return
        }
        #expect(badID.code == .badID)
        #expect(badID.fields == ["subject"])

        // Clearing a key field is a key change too (bad-id before missing-field), whether the
        // field is required or not.
        var reportState = RecordState()
        let report = Self.report.merging(["area": .string("Riau")]) { $1 }
        try reportState.write(report, dot: Dot(replica: Self.pusher, counter: 1), now: 1, author: "A")
        let reportID = Catalogue.reports.derivedID(for: report)!
        for key in ["org", "area"] {
            var cleared = reportState
            try cleared.write([key: .null], dot: Dot(replica: Self.pusher, counter: 2), now: 2, author: "A")
            guard case .reject(let rejection) = rules.admit(
                ReplicatedRecord(collection: "reports", id: reportID, state: cleared), stored: reportState, pusher: Self.pusher,
                counter: 2, catalogue: true)
            else {
                Issue.record("clearing \(key) was stored")
                continue
            }
            #expect(rejection.code == .badID, "\(key)")
            #expect(rejection.fields == [key])
        }

        // Clearing a required field that is not a key: missing-field.
        var clearedValue = reportState
        try clearedValue.write(["value": .null], dot: Dot(replica: Self.pusher, counter: 2), now: 2, author: "A")
        guard case .reject(let noValue) = rules.admit(
            ReplicatedRecord(collection: "reports", id: reportID, state: clearedValue), stored: reportState, pusher: Self.pusher,
            counter: 2, catalogue: true)
        else {
            Issue.record("clearing a required field was stored")
            return
        }
        #expect(noValue.code == .missingField)
        #expect(noValue.fields == ["value"])

        // One write stamps its fields alike: one dot with two times (or authors) is corruption.
        var twoTimes = RecordState()
        try twoTimes.write(["title": .string("x"), "category": .string("Other")], dot: Dot(replica: Self.pusher, counter: 1), now: 5, author: "A")
        let line = ReplicatedRecord(collection: "asks", id: "ask-1", state: twoTimes).canonicalJSON
            .replacingOccurrences(of: #""time":5,"value":"x""#, with: #""time":6,"value":"x""#)
        let forged = try ReplicatedRecord(json: line)
        guard case .reject(let corruption) = rules.admit(forged, stored: nil, pusher: Self.pusher, counter: 1, catalogue: true) else {
            Issue.record("one dot with two times was stored")
            return
        }
        #expect(corruption.code == .corruption)
    }

    @Test("pull: a limit above the records limit is bad-field; a since beyond the feed gets the hub's sequence; a client's pong is unexpected")
    func pullRules() async throws {
        try await withHub { hub in
            let token = try hub.token()
            try await RawHubConnection.with(hub) { connection in
                guard case .welcome(let welcome) = try await connection.hello(replica: "r-pull", token: token) else { return }
                try await connection.send(.pull(Pull(since: welcome.seq + 1_000, limit: 10)))
                guard case .changes(let changes, let records) = try await connection.receive() else {
                    Issue.record("no changes")
                    return
                }
                #expect(changes.through == welcome.seq)
                #expect(!changes.more && records.isEmpty)
                try await connection.send(.pull(Pull(since: 0, limit: welcome.limits.records + 1)))
                guard case .error(let error) = try await connection.receive() else {
                    Issue.record("a pull limit above the records limit was served")
                    return
                }
                #expect(error.code == .badField)
            }
            try await RawHubConnection.with(hub) { connection in
                _ = try await connection.hello(replica: "r-pong", token: token)
                try await connection.send(.pong(Ping(nonce: 1)))
                guard case .error(let error) = try await connection.receive() else {
                    Issue.record("a client's pong was answered")
                    return
                }
                #expect(error.code == .unexpectedMessage)
            }
        }
    }
}
