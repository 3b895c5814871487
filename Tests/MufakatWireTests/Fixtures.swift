import MufakatSync
import Foundation
import MufakatCore
import NIOCore
@testable import MufakatWire

/// Sample messages and records shared by the tests and the vector files.
enum Fixtures {
    static let iom = try! ReplicaID("3f9c0a17be2d4410")
    static let unicef = try! ReplicaID("a0b1c2d3e4f50617")

    /// A realistic `reports` record, as a field worker's replica would push it.
    static func report(_ index: Int, replica: ReplicaID = iom) -> ReplicatedRecord {
        let schema = Catalogue.reports
        let provinces = ["East Java", "West Kalimantan", "North Sumatra", "Riau Islands", "NTT", "NTB", "Central Java", "Jakarta"]
        let (values, _) = schema.parse([
            ("org", ["iom", "unicef", "save-the-children", "migrant-care"][index % 4]),
            ("period", "2025-Q\(index % 4 + 1)"),
            ("country", "ID"),
            ("area", provinces[index % provinces.count]),
            ("indicator", Catalogue.indicators[index % 10]),
            ("value", String(index * 7 % 500)),
            ("gender", Catalogue.genders[index % 4]),
            ("ageBroad", Catalogue.ageBands[index % 10]),
            ("typeOfExploitation", Catalogue.exploitationTypes[index % 11]),
            ("countryOfExploitation", ["MY", "SA", "HK", "TW", "SG"][index % 5]),
            ("datasource", Catalogue.dataSources[index % 5]),
            ("status", Catalogue.reportStatuses[index % 4]),
            ("notes", index % 3 == 0 ? "Figures from the provincial task force, checked against shelter intake." : ""),
        ])
        var state = RecordState()
        try! state.write(
            values.filter { !$0.value.isNull }, dot: Dot(replica: replica, counter: UInt64(index + 1)),
            now: 1_764_400_000_000 + Int64(index) * 1_000, author: "Andi (IOM)")
        return ReplicatedRecord(collection: "reports", id: schema.derivedID(for: state.document)!, state: state)
    }

    static func position() -> ReplicatedRecord {
        var state = RecordState()
        try! state.write(
            ["subject": .string("kemnaker"), "ask": .string("ask-budget"), "stance": .string("PassiveSupport")],
            dot: Dot(replica: iom, counter: 7), now: 1_764_400_000_000, author: "Andi (IOM)")
        var other = RecordState()
        try! other.write(
            ["subject": .string("kemnaker"), "ask": .string("ask-budget"), "stance": .string("Neutral")],
            dot: Dot(replica: unicef, counter: 3), now: 1_764_400_005_000, author: "Sari (UNICEF)")
        try! state.merge(other)
        return ReplicatedRecord(collection: "positions", id: "kemnaker:ask-budget", state: state)
    }

    /// One message of every type.
    static let messages: [(name: String, message: Message)] = [
        ("hello", .hello(Hello(replica: iom.rawValue, token: "mft_Zx8q2LrT0aW9kPq4", client: "mufakat 0.1 (Andi (IOM))"))),
        ("welcome", .welcome(Welcome(
            hub: "b7e9d0c1a2f34455", seq: 1_204, counter: 41, through: 41, push: "5c1e77a0b93d2f48", served: 1_180,
            recent: [PushMark(push: "a41d09c6e2b7f315", through: 38), PushMark(push: "5c1e77a0b93d2f48", through: 41)],
            software: "mufakat-hub 0.4.0",
            reseed: false, limits: .default, nextKey: "SHA256:tGfM7xTHx1/fH5ysgEw7NjoJ8pRF/f9fbgX0kvrcC00",
            org: "iom", role: "member"))),
        ("error", .error(ErrorMessage(code: .unauthorized, message: "token is revoked; ask the hub operator for a new one"))),
        ("push", .push(Push(through: 42, id: "0f3a9c21d4e5b687", after: "5c1e77a0b93d2f48", counter: 42), records: [position(), report(1)])),
        ("pushed", .pushed(Pushed(
            through: 42, id: "0f3a9c21d4e5b687", accepted: 1, unchanged: 0,
            rejected: [.init(collection: "reports", id: "r-0123456789abcdef0123", code: "invalid", fields: ["value"], reason: "values the catalogue does not accept: value: is below 0; counts are whole numbers, 0 or more")],
            seq: 1_205))),
        ("pull", .pull(Pull(since: 1_100, limit: 1_000))),
        ("changes", .changes(Changes(through: 1_205, more: false), records: [report(2, replica: unicef), position()])),
        ("ping", .ping(Ping(nonce: 7))),
        ("pong", .pong(Ping(nonce: 7))),
        ("bye", .bye),
    ]

    /// A hub run's actor (protocol 5): the dots it names writes with.
    static let hubRun = try! ReplicaID("5d2e8f0a9b1c3d47")

    /// Two writes of one laptop transaction to one meeting (protocol 5): the second follows
    /// the first, both made on the named state the hub served at counter 12.
    static let writes: [PushedWrite] = {
        let first = try! WriteID("6f1c0b7e2d9a4c3b8e5f1a0d7c6b2e9a-1")
        let second = try! WriteID("6f1c0b7e2d9a4c3b8e5f1a0d7c6b2e9a-2")
        let context = VersionVector([hubRun: 12])
        return [
            PushedWrite(collection: "meetings", id: "m-2026-11", write: PendingWrite(
                id: first, values: ["decisions": .string("Joint letter to Kemnaker by 15 December")], context: context,
                enteredAt: 1_764_400_000_000, author: "Andi")),
            PushedWrite(collection: "meetings", id: "m-2026-11", write: PendingWrite(
                id: second, values: ["decisions": .string("Joint letter to Kemnaker by 20 December"), "attendees": .list(["iom", "unicef"])],
                context: context, after: [first], enteredAt: 1_764_400_060_000, author: "Andi")),
        ]
    }()

    /// A record state as a protocol 5 hub serves it: named by the hub's run, with its voucher.
    static func vouched() -> ReplicatedRecord {
        var state = RecordState()
        try! state.write(
            ["subject": .string("kemnaker"), "ask": .string("ask-budget"), "stance": .string("ActiveSupport"), "assessedBy": .string("iom")],
            dot: Dot(replica: hubRun, counter: 13), now: 1_764_400_001_000, author: "Andi (iom)")
        return ReplicatedRecord(
            collection: "positions", id: "kemnaker:ask-budget", state: state, voucher: "q3X0vN8-cWm1Zb_4",
            tags: [Dot(replica: hubRun, counter: 13): "9c4e1f0a7b2d3e5f8a6c1b0d9e2f4a7c-1"])
    }

    /// An audit entry as a hub keeps it (PROTOCOL.md §6.11): a member of iom set a stance.
    static let auditEntry = AuditEntry(
        entry: 57, seq: 1_199, time: 1_764_400_000_000, token: "tok-3f9a1c2e", name: "Andi", org: "iom", role: "member",
        replica: iom.rawValue, collection: "positions", id: "kemnaker:ask-budget", inHouse: nil, dots: ["\(iom.rawValue):7"],
        changes: ["stance": .init(old: "Neutral", new: "PassiveSupport", conflict: true)],
        prev: "9b1f5e0c4d2a7b86e3f0a1c5d9e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3f2e1d0c")

    /// An entry whose hash covers non-ASCII, a tab and a line feed (§6.11: raw UTF-8, §6.5 escapes).
    static let auditEntryNonASCII = AuditEntry(
        entry: 58, seq: 1_200, time: 1_764_400_060_000, token: "tok-7b2e4d1a", name: "Siti Ñurhaliza", org: "save-the-children",
        role: "member", replica: iom.rawValue, collection: "meetings", id: "m-2026-11", inHouse: nil, dots: ["\(iom.rawValue):8"],
        changes: ["decisions": .init(old: "Rapat\tpertama", new: "Surat ke Kemnaker — 20 Desember\nTindak lanjut: 日程")],
        prev: auditEntry.hash)

    static func frameBytes(_ frame: WireFrame) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeWireFrame(frame)
        return buffer
    }

    /// A frame whose body is `text`, optionally zlib-compressed whatever its size.
    static func rawFrame(_ text: String, compress: Bool = false, flags: UInt8? = nil) -> ByteBuffer {
        var body = ByteBuffer(string: text)
        if compress { body = try! Zlib.deflate(body) }
        return frameBytes(WireFrame(flags: WireFrame.Flags(rawValue: flags ?? (compress ? 1 : 0)), body: body))
    }

    static func hex(_ buffer: ByteBuffer) -> String {
        buffer.readableBytesView.map { String(format: "%02x", $0) }.joined()
    }

    static func bytes(hex: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            buffer.writeInteger(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return buffer
    }
}
