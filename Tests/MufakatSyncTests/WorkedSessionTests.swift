import Foundation
import GRDB
import MufakatCore
@testable import MufakatStore
import MufakatTesting
import MufakatWire
import NIOCore
import Testing

/// PROTOCOL.md §10 is a real session: this test runs it against a hub each time and checks
/// that the section and `protocol/vectors/session/worked-session.json` show exactly what the
/// hub answered. `MUFAKAT_WRITE_VECTORS=1` rewrites both after a deliberate change.
@Suite("The worked session of PROTOCOL.md §10, replayed")
struct WorkedSessionTests {
    static let protocolDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("protocol")
    static let hubID = "b7e9d0c1a2f34455"
    static let andi = try! ReplicaID("3f9c0a17be2d4410")
    static let sari = try! ReplicaID("a0b1c2d3e4f50617")
    static let andiToken = "mft_Zx8q2LrT0aW9kPq4Ad7mW2nB5cE1gH3j"
    static let sariToken = "mft_Qm4v7Yc2Ns9Lp6Xr1Tb8Kd3Wf5Hg0Jz2"

    /// One frame of the transcript.
    struct Step: Codable, Equatable {
        /// `client` or `hub`.
        var from: String
        /// The body text, inflated.
        var body: String
        var compressed: Bool
        /// The whole frame as hex, for uncompressed frames (compressed bytes depend on the
        /// zlib build; compare those after inflating).
        var frame: String?
    }

    struct Transcript: Codable, Equatable {
        var description: String
        var steps: [Step]
    }

    static func record(_ collection: String, _ id: String, _ values: [String: FieldValue], replica: ReplicaID, counter: UInt64, time: Int64, author: String) -> ReplicatedRecord {
        var state = RecordState()
        try! state.write(values, dot: Dot(replica: replica, counter: counter), now: time, author: author)
        return ReplicatedRecord(collection: collection, id: id, state: state)
    }

    /// The hub as the session finds it: a fixed id, two people's tokens, and Sari's three records.
    static func prepare(_ hub: TestHub) async throws {
        try await hub.store.writer.write { db in
            try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'hubID'", arguments: [hubID])
            // Sari coordinates (she entered the ministry); Andi is a member of IOM.
            for (id, org, name, secret, role) in [
                ("tok-andi", "iom", "Andi", andiToken, "member"), ("tok-sari", "unicef", "Sari", sariToken, "coordinator"),
            ] {
                try db.execute(
                    sql: "INSERT INTO tokens (id, org, name, hash, created, role) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [id, org, name, HubStore.hash(secret), 1_764_400_000_000, role])
            }
        }
        let time: Int64 = 1_764_390_000_000
        let records = [
            record("organizations", "kemnaker", ["name": .string("Kementerian Ketenagakerjaan"), "type": .string("CentralGovernment"), "country": .string("ID")], replica: sari, counter: 1, time: time, author: "Sari (UNICEF)"),
            record("asks", "ask-budget", ["title": .string("Fund the anti-trafficking task forces"), "category": .string("BudgetIncrease")], replica: sari, counter: 2, time: time + 1, author: "Sari (UNICEF)"),
            record("positions", "kemnaker:ask-budget", ["subject": .string("kemnaker"), "ask": .string("ask-budget"), "stance": .string("Neutral")], replica: sari, counter: 3, time: time + 2, author: "Sari (UNICEF)"),
        ]
        try await RawHubConnection.with(hub) { connection in
            _ = try await connection.hello(replica: sari.rawValue, token: sariToken)
            try await connection.send(.push(Push(through: 3, id: "9b2e41c7d05a6f38", after: "", counter: 3), records: records))
            guard case .pushed(let pushed) = try await connection.receive(), pushed.accepted == 3 else {
                throw MufakatError(.malformed, "setup push not stored")
            }
        }
    }

    /// What Andi's replica sends, in order.
    static func clientMessages() -> [Message] {
        let time: Int64 = 1_764_400_000_000
        let position = record(
            "positions", "kemnaker:ask-budget",
            ["subject": .string("kemnaker"), "ask": .string("ask-budget"), "stance": .string("PassiveSupport")],
            replica: andi, counter: 1, time: time, author: "Andi (IOM)")
        let report = record(
            "reports", "r-0123456789abcdef0123",
            ["org": .string("iom"), "period": .string("2025-Q3"), "country": .string("ID"), "indicator": .string("VictimsIdentified"), "value": .integer(37)],
            replica: andi, counter: 2, time: time + 1, author: "Andi (IOM)")
        return [
            .hello(Hello(replica: andi.rawValue, token: andiToken, client: "mufakat 0.6.0 (Andi (IOM))")),
            .push(Push(through: 2, id: "0f3a9c21d4e5b687", after: "", counter: 2), records: [position, report]),
            .pull(Pull(since: 0, limit: 1_000)),
            .bye,
        ]
    }

    static func step(_ frame: WireFrame, from: String) throws -> Step {
        let message = try Message(frame: frame)
        let compressed = frame.flags.contains(.compressed)
        var bytes = ByteBuffer()
        bytes.writeWireFrame(frame)
        return Step(
            from: from, body: String(buffer: try message.encodeBody()), compressed: compressed,
            frame: compressed ? nil : bytes.readableBytesView.map { String(format: "%02x", $0) }.joined())
    }

    /// Runs the session against a fresh hub: each client frame as the reference client
    /// sends it, each hub frame as received.
    static func run() async throws -> Transcript {
        try await withHub { hub in
            try await prepare(hub)
            var steps: [Step] = []
            try await RawHubConnection.with(hub) { connection in
                for message in clientMessages() {
                    let frame = try message.frame()
                    steps.append(try step(frame, from: "client"))
                    var bytes = ByteBuffer()
                    bytes.writeWireFrame(frame)
                    try await connection.send(bytes: bytes)
                    if case .bye = message { break }
                    guard let answer = try await connection.receiveFrame() else { throw MufakatError(.malformed, "hub closed") }
                    steps.append(try step(answer, from: "hub"))
                }
                #expect(try await connection.receive() == nil, "the hub closes after bye")
            }
            return Transcript(
                description: "PROTOCOL.md §10: a first sync of replica 3f9c0a17be2d4410 (token \(andiToken)) with hub \(hubID), which holds three records of replica \(sari.rawValue). Frames in order; 'body' is the inflated body, 'frame' the whole frame as hex when it is sent uncompressed.",
                steps: steps)
        }
    }

    @Test("the hub answers exactly as §10 and vectors/session/worked-session.json show")
    func replay() async throws {
        let transcript = try await Self.run()
        let file = Self.protocolDirectory.appendingPathComponent("vectors/session/worked-session.json")
        let specFile = Self.protocolDirectory.appendingPathComponent("PROTOCOL.md")
        let spec = try String(contentsOf: specFile, encoding: .utf8)
        let section = Self.render(transcript)
        let start = try #require(spec.range(of: "## 10. A worked session\n"))
        let end = try #require(spec.range(of: "\n## 11. ", range: start.upperBound..<spec.endIndex))
        if ProcessInfo.processInfo.environment["MUFAKAT_WRITE_VECTORS"] == "1" {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try (encoder.encode(transcript) + Data("\n".utf8)).write(to: file)
            try (spec.replacingCharacters(in: start.upperBound..<end.lowerBound, with: section)).write(to: specFile, atomically: true, encoding: .utf8)
        }
        let stored = try JSONDecoder().decode(Transcript.self, from: Data(contentsOf: file))
        #expect(stored.steps.count == transcript.steps.count)
        for (recorded, live) in zip(stored.steps, transcript.steps) {
            #expect(recorded == live)
        }
        #expect(String(spec[start.upperBound..<end.lowerBound]) == section, "PROTOCOL.md §10 differs from the session; rewrite with MUFAKAT_WRITE_VECTORS=1")
    }

    static let notes: [String] = [
        "Andi's replica opens the session. `version` \(WireProtocol.version); `token` is the secret the hub operator issued (the hub stores only its SHA-256).",
        "The hub has never seen replica `3f9c0a17be2d4410`: `counter`, `through` and `served` are 0 and `push` is empty, so the client's ledger check (§6.6) finds nothing to repair. `seq` is 3: Sari's three records. Andi's token is a `member` of `iom` (§6.10): the client judges its writes offline by that from now on.",
        "Two records, each a canonical line (§6.5), written as dots 1 and 2; `after` is empty (the first push of this id) and `counter` 2. The report's id is not the hash of its key fields (§6.8).",
        "The position is stored: a member may write a government body's position (the hub holds `kemnaker` as `CentralGovernment`). Merged with Sari's `Neutral`, `stance` now holds two concurrent entries, a conflict both will see. The report is refused alone with `bad-id`; the client keeps it and shows it (§6.9). The client records push `0f3a9c21d4e5b687` through 2 as acknowledged.",
        "The first pull: everything after sequence 0, at most 1,000 records a frame.",
        "Sari's organization and ask, and the position as merged — not as Andi pushed it, so it is not left out (§4). `through` 4 is the client's new checkpoint, stored with the records in one transaction; `more` is false, so it is done.",
        "The client is done; the hub closes the connection.",
    ]

    static func render(_ transcript: Transcript) -> String {
        var text = """

            This session was recorded from the reference hub, and the test suite replays it (`WorkedSessionTests`):
            if the hub ever answers otherwise, the test fails until this section is regenerated. The frames are
            also in [`vectors/session/worked-session.json`](vectors/session/worked-session.json). The hub
            `\(hubID)` holds three records pushed by Sari's replica `\(sari.rawValue)` (an organization, an ask
            and Sari's position on it); Andi's replica `\(andi.rawValue)` syncs for the first time. Uncompressed
            frames are shown as hex (length, flags, body), then decoded; compressed ones by their inflated body.

            """
        for (index, step) in transcript.steps.enumerated() {
            let lines = step.body.split(separator: "\n", omittingEmptySubsequences: true)
            let type = (try? Message(frame: WireFrame(flags: [], body: ByteBuffer(string: step.body))).type.rawValue) ?? "?"
            let direction = step.from == "client" ? "client → hub" : "hub → client"
            let records = lines.count - 1
            let recordText = records == 0 ? "" : ", \(records) record line\(records == 1 ? "" : "s")"
            text += "\n**\(index + 1). \(type)** (\(direction))"
            if let frame = step.frame {
                let bytes = frame.count / 2
                text += ", \(bytes) bytes, uncompressed\(recordText):\n\n```\n"
                let prefix = String(frame.prefix(8)) + " " + String(frame.dropFirst(8).prefix(2)) + " "
                var rest = Substring(frame.dropFirst(10))
                var first = true
                while !rest.isEmpty {
                    let width = first ? 86 : 96
                    text += (first ? prefix : "") + rest.prefix(width) + "\n"
                    rest = rest.dropFirst(width)
                    first = false
                }
                text += "```\n"
            } else {
                text += ", compressed (flags `01`)\(recordText); the body inflates to \(step.body.utf8.count) bytes:\n"
            }
            text += "\n```json\n" + lines.joined(separator: "\n") + "\n```\n"
            if index < notes.count { text += "\n" + notes[index] + "\n" }
        }
        return text
    }
}
