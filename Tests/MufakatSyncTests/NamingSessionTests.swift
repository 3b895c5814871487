import Foundation
import MufakatCore
import MufakatStore
import MufakatTesting
import MufakatWire
import Testing

/// Protocol 5 on a running hub, spoken by a raw client as a client in another language
/// would (PROTOCOL.md §13): the hub names writes, answers a replay with the same names,
/// serves vouchers, skips what the writer holds exactly, and keeps 4 and 5 apart.
@Suite("Protocol 5 sessions: the hub names writes")
struct NamingSessionTests {
    static let replica = "b2b2b2b2b2b2b2b2"

    static func writes(_ ids: inout WriteIDSource, context: VersionVector = VersionVector()) -> [PushedWrite] {
        let first = ids.next()
        let second = ids.next()
        return [
            PushedWrite(collection: "meetings", id: "mtg-nov", write: PendingWrite(
                id: first, values: ["title": .string("November meeting"), "date": .string("2026-11-05")], context: context,
                enteredAt: 1_000, author: "typed on the laptop")),
            PushedWrite(collection: "meetings", id: "mtg-nov", write: PendingWrite(
                id: second, values: ["decisions": .string("Letter by 15 December")], context: context, after: [first],
                enteredAt: 2_000, author: "typed on the laptop")),
        ]
    }

    @Test("welcome lists the runs; writes are named in order, exactly once; the laptop's own state matches the hub's byte for byte")
    func namesWrites() async throws {
        try await withHub { hub in
            let token = try hub.token(org: "iom", name: "Andi")
            var ids = WriteIDSource()
            let writes = Self.writes(&ids)
            try await RawHubConnection.with(hub) { connection in
                guard case .welcome(let welcome) = try await connection.hello(replica: Self.replica, token: token, version: 5) else {
                    Issue.record("no welcome")
                    return
                }
                #expect(welcome.version == 5)
                let run = try #require(welcome.incarnations?.last)
                #expect(welcome.held?[run.actor] == 0 || welcome.held?[run.actor] == nil)

                try await connection.send(.write(WriteBatch(id: "batch-1"), writes: writes))
                guard case .named(let named, let lines) = try await connection.receive() else {
                    Issue.record("no named")
                    return
                }
                #expect(named.id == "batch-1")
                #expect(lines.map(\.write) == writes.map(\.write.id.rawValue))
                #expect(lines.allSatisfy { $0.exact == true && $0.earlier == false && $0.refused == nil })
                #expect(lines.map { $0.dot?.dot.replica.rawValue } == [run.actor, run.actor])
                #expect(lines.map { $0.dot?.dot.counter } == [1, 2])
                #expect(lines.allSatisfy { $0.author == "Andi (iom)" && $0.time != nil })
                #expect(lines[1].over?.map(\.dot) == [lines[0].dot!.dot])

                // The laptop applies what the hub answered to its named state: the hub's state.
                var mine = RecordState()
                for (write, line) in zip(writes, lines) {
                    mine = try mine.applyingNamed(
                        write.write.values, seen: write.write.context, over: Set((line.over ?? []).map(\.dot)), dot: line.dot!.dot,
                        time: line.time!, author: line.author!)
                }
                let stored = try #require(try hub.store.records().first { $0.id == "mtg-nov" })
                #expect(mine.compactJSON == stored.state.compactJSON)
                let tags = Dictionary(uniqueKeysWithValues: zip(lines, writes).map { ($0.dot!.dot, $1.write.id.tag) })
                #expect(try hub.store.verifyVoucher(lines[1].voucher ?? "", collection: "meetings", id: "mtg-nov", state: mine, tags: tags))

                // A replay (a lost answer, a copied folder): the same names, nothing changed.
                let sequence = named.seq
                try await connection.send(.write(WriteBatch(id: "batch-2"), writes: writes))
                guard case .named(let replay, let again) = try await connection.receive() else {
                    Issue.record("no named")
                    return
                }
                #expect(replay.seq == sequence)
                #expect(again.map { $0.dot?.dot } == lines.map { $0.dot?.dot })
                #expect(again.allSatisfy { $0.earlier == true && $0.exact == false && $0.voucher == nil })

                // The writer's pull leaves out what it holds exactly; anyone else's carries it, vouched.
                try await connection.send(.pull(Pull(since: 0, limit: 100, skip: ["batch-1"])))
                guard case .changes(_, let skipped) = try await connection.receive() else {
                    Issue.record("no changes")
                    return
                }
                #expect(skipped.isEmpty)
                try await connection.send(.pull(Pull(since: 0, limit: 100)))
                guard case .changes(_, let served) = try await connection.receive() else {
                    Issue.record("no changes")
                    return
                }
                let record = try #require(served.first)
                #expect(record.state == stored.state)
                #expect(record.tags == tags, "the writes' tags, never their ids")
                #expect(try hub.store.verifyVoucher(record.voucher ?? "", collection: "meetings", id: "mtg-nov", state: record.state, tags: tags))
                try await connection.send(.bye)
            }
        }
    }

    @Test("a refused write changes nothing and the batch goes on; messages of the other version end the session")
    func refusalsAndVersions() async throws {
        try await withHub { hub in
            let member = try hub.token(org: "unicef", name: "Sari", role: .member)
            var ids = WriteIDSource()
            let foreign = PushedWrite(collection: "organizations", id: "iom", write: PendingWrite(
                id: ids.next(), values: ["name": .string("IOM"), "type": .string("UNAgency")], context: VersionVector(),
                enteredAt: 1_000, author: "Sari"))
            let own = Self.writes(&ids)
            try await RawHubConnection.with(hub) { connection in
                _ = try await connection.hello(replica: Self.replica, token: member, version: 5)
                try await connection.send(.write(WriteBatch(id: "b1"), writes: [foreign] + own))
                guard case .named(_, let lines) = try await connection.receive() else {
                    Issue.record("no named")
                    return
                }
                #expect(lines[0].refused?.code == "forbidden")
                #expect(lines[0].dot == nil)
                #expect(lines.dropFirst().allSatisfy { $0.dot != nil })
                #expect(try hub.store.records().map(\.id) == ["mtg-nov"])
                // A version 5 session does not push states.
                try await connection.send(.push(Push(through: 1, id: "p", after: "", counter: 1), records: []))
                guard case .error(let error) = try await connection.receive() else {
                    Issue.record("push accepted in protocol 5")
                    return
                }
                #expect(error.code == .unexpectedMessage)
            }
            try await RawHubConnection.with(hub) { connection in
                _ = try await connection.hello(replica: "c3c3c3c3c3c3c3c3", token: member, version: 4)
                try await connection.send(.write(WriteBatch(id: "b2"), writes: own))
                guard case .error(let error) = try await connection.receive() else {
                    Issue.record("write accepted in protocol 4")
                    return
                }
                #expect(error.code == .unexpectedMessage)
            }
        }
    }

    @Test("each start of the hub is a new run; a write named before the restart keeps its name after it")
    func restartIsNewRun() async throws {
        let folder = try TemporaryDirectory("mufakat-hub")
        let token: String
        var ids = WriteIDSource()
        let writes = Self.writes(&ids)
        var firstRun = ""
        do {
            let hub = try await TestHub.start(insecure: true, folder: folder)
            token = try hub.token()
            try await RawHubConnection.with(hub) { connection in
                guard case .welcome(let welcome) = try await connection.hello(replica: Self.replica, token: token, version: 5) else { return }
                firstRun = welcome.incarnations?.last?.actor ?? ""
                try await connection.send(.write(WriteBatch(id: "b1"), writes: writes))
                _ = try await connection.receive()
            }
            await hub.stop()
        }
        let hub = try await TestHub.start(insecure: true, folder: folder)
        try await RawHubConnection.with(hub) { connection in
            guard case .welcome(let welcome) = try await connection.hello(replica: Self.replica, token: token, version: 5) else {
                Issue.record("no welcome")
                return
            }
            let runs = welcome.incarnations ?? []
            #expect(runs.count == 2)
            #expect(runs.first?.actor == firstRun)
            #expect(runs.last?.actor != firstRun)
            #expect(runs.last?.from == welcome.seq)
            #expect(welcome.held?[firstRun] == 2)
            try await connection.send(.write(WriteBatch(id: "b2"), writes: writes))
            guard case .named(_, let lines) = try await connection.receive() else {
                Issue.record("no named")
                return
            }
            #expect(lines.map { $0.dot?.dot.replica.rawValue } == [firstRun, firstRun])
        }
        await hub.stop()
    }
}
