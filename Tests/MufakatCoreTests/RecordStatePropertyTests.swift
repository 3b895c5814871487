import PropertyBased
import Testing
@testable import MufakatCore

/// A random history: which replicas exist and what each step does. Steps are plain
/// integers so the library can shrink a failing history to a short one.
private struct History {
    static let keys = ["k1", "k2", "k3"]
    static let fields = ["stance", "influence", "statement", "count"]
    static let values: [FieldValue] = [
        .string("A"), .string("B"), .string("say \"no\"\tthen\nyes"), .string("ünï\u{1}cödé"),
        .integer(0), .integer(42), .list(["iom", "unicef"]), .null,
    ]

    var replicas: [SimulatedReplica]
    /// Per write dot, the context it was written with: what it had seen.
    var seenByWrite: [Dot: VersionVector] = [:]
    /// Every (key, field, dot) a write produced.
    var writes: [(key: String, field: String, dot: Dot)] = []

    init(replicaCount: Int, clockSkews: [Int]) {
        replicas = (0..<replicaCount).map { index in
            // Some laptops run a year behind, some a few seconds ahead.
            let skew = Int64(clockSkews[index % clockSkews.count]) * 3_600_000
            return SimulatedReplica("r\(index)", clock: 1_764_400_000_000 + skew)
        }
    }

    mutating func run(_ step: Int) throws {
        let n = replicas.count
        let r = step % n
        let key = Self.keys[(step / n) % Self.keys.count]
        let choice = (step / (n * Self.keys.count)) % 10
        let detail = step / (n * Self.keys.count * 10)
        switch choice {
        case 0...3:
            var values: [String: FieldValue] = [:]
            for (index, field) in Self.fields.enumerated() where (detail >> index) & 1 == 1 {
                values[field] = Self.values[(detail >> (4 + index * 3)) % Self.values.count]
            }
            if values.isEmpty { values["stance"] = Self.values[detail % Self.values.count] }
            try replicas[r].put(key, values)
            record(replica: r, key: key)
        case 4:
            guard replicas[r].states[key] != nil else { return }
            try replicas[r].delete(key)
            record(replica: r, key: key)
        case 5:
            guard let state = replicas[r].states[key], let conflict = state.conflicts.first else { return }
            let pick = conflict.candidates[detail % conflict.candidates.count]
            try replicas[r].resolve(key, field: conflict.field, to: pick.value, deleting: pick.isDeletion)
            record(replica: r, key: key)
        case 6:
            guard replicas[r].states[key]?.isDeleted == true else { return }
            try replicas[r].restore(key)
            record(replica: r, key: key)
        default:
            let other = (r + 1 + detail % max(1, n - 1)) % n
            if other != r { try sync(&replicas, r, other) }
        }
    }

    private mutating func record(replica: Int, key: String) {
        let state = replicas[replica].states[key]!
        let dot = Dot(replica: replicas[replica].id, counter: replicas[replica].counter)
        seenByWrite[dot] = state.context
        for (field, entries) in state.fields where entries.contains(where: { $0.dot == dot }) {
            writes.append((key, field, dot))
        }
    }

    /// Everyone sends to replica 0, then replica 0 sends to everyone.
    mutating func fullExchange() throws {
        for index in replicas.indices.dropFirst() { try replicas[0].receive(from: replicas[index]) }
        for index in replicas.indices.dropFirst() { try replicas[index].receive(from: replicas[0]) }
    }
}

private let steps = Gen.int(in: 0...1_000_000_000).array(of: 1...60)
private let replicaCounts = Gen.int(in: 2...6)
private let skews = Gen.int(in: -8_760...2).array(of: 1...3)

@Suite("Record state properties (1,000 generated cases each)")
struct RecordStatePropertyTests {
    /// Three states of one record from a random history on three replicas.
    private func threeStates(_ history: [Int], _ skew: [Int]) throws -> (RecordState, RecordState, RecordState) {
        var run = History(replicaCount: 3, clockSkews: skew)
        for step in history { try run.run(step) }
        func state(_ index: Int) -> RecordState { run.replicas[index].states["k1"] ?? RecordState() }
        return (state(0), state(1), state(2))
    }

    @Test("merge is commutative — 1,000 cases")
    func commutative() async {
        await propertyCheck(count: 1_000, input: steps, skews) { history, skew in
            let (a, b, _) = try threeStates(history, skew)
            #expect(try a.merging(b) == b.merging(a))
        }
    }

    @Test("merge is associative — 1,000 cases")
    func associative() async {
        await propertyCheck(count: 1_000, input: steps, skews) { history, skew in
            let (a, b, c) = try threeStates(history, skew)
            #expect(try a.merging(b).merging(c) == a.merging(b.merging(c)))
        }
    }

    @Test("merge is idempotent — 1,000 cases")
    func idempotent() async {
        await propertyCheck(count: 1_000, input: steps, skews) { history, skew in
            let (a, b, _) = try threeStates(history, skew)
            #expect(try a.merging(a) == a)
            let ab = try a.merging(b)
            #expect(try ab.merging(b) == ab)
            #expect(try ab.merging(a) == ab)
        }
    }

    @Test("any order of merging the same states gives the same state — 1,000 cases")
    func anyOrder() async {
        await propertyCheck(count: 1_000, input: steps, skews) { history, skew in
            let (a, b, c) = try threeStates(history, skew)
            let orders = [[a, b, c], [a, c, b], [b, a, c], [b, c, a], [c, a, b], [c, b, a]]
            let results = try orders.map { order in try order.dropFirst().reduce(order[0]) { try $0.merging($1) } }
            #expect(Set(results.map(\.canonicalJSON)).count == 1)
        }
    }

    @Test("2–6 replicas with random writes, deletes, resolves and merges converge — 1,000 cases")
    func convergence() async {
        await propertyCheck(count: 1_000, input: replicaCounts, steps, skews) { count, history, skew in
            var run = History(replicaCount: count, clockSkews: skew)
            for step in history { try run.run(step) }
            try run.fullExchange()
            let first = run.replicas[0]
            for replica in run.replicas.dropFirst() {
                #expect(replica.digest == first.digest)
                for key in History.keys {
                    #expect(replica.states[key]?.canonicalJSON == first.states[key]?.canonicalJSON)
                    #expect(replica.states[key]?.conflicts == first.states[key]?.conflicts)
                    #expect(replica.states[key]?.document == first.states[key]?.document)
                }
            }
        }
    }

    @Test("no write is lost unless a later write that saw it replaced it — 1,000 cases")
    func noLostWrites() async {
        await propertyCheck(count: 1_000, input: replicaCounts, steps, skews) { count, history, skew in
            var run = History(replicaCount: count, clockSkews: skew)
            for step in history { try run.run(step) }
            try run.fullExchange()
            let final = run.replicas[0].states
            for write in run.writes {
                let entries = final[write.key]?.fields[write.field] ?? []
                let kept = entries.contains { $0.dot == write.dot }
                let replaced = entries.contains { run.seenByWrite[$0.dot]?.contains(write.dot) == true && $0.dot != write.dot }
                #expect(kept || replaced, "write \(write.dot) to \(write.key).\(write.field) vanished")
            }
        }
    }

    @Test("deleting any record and restoring it gives back what it showed — 1,000 cases")
    func deleteThenRestore() async {
        await propertyCheck(count: 1_000, input: replicaCounts, steps, skews) { count, history, skew in
            var run = History(replicaCount: count, clockSkews: skew)
            for step in history { try run.run(step) }
            for var replica in run.replicas {
                for (key, state) in replica.states where !state.isDeleted {
                    try replica.delete(key)
                    #expect(replica.states[key]!.isDeleted)
                    #expect(!replica.states[key]!.isConflicted)
                    try replica.restore(key)
                    #expect(!replica.states[key]!.isDeleted)
                    #expect(replica.states[key]!.document == state.document)
                }
            }
        }
    }

    @Test("canonical JSON of either form decodes to the same state and re-encodes to the same text — 1,000 cases")
    func canonicalRoundTrip() async {
        await propertyCheck(count: 1_000, input: replicaCounts, steps, skews) { count, history, skew in
            var run = History(replicaCount: count, clockSkews: skew)
            for step in history { try run.run(step) }
            for replica in run.replicas {
                for record in replica.records {
                    let text = record.canonicalJSON
                    let decoded = try ReplicatedRecord(json: text)
                    #expect(decoded == record)
                    #expect(decoded.canonicalJSON == text)
                    #expect(try RecordState(json: record.state.canonicalJSON) == record.state)
                    // The compact form carries the same state, as one text, no longer.
                    let compact = record.line(.compact)
                    let fromCompact = try ReplicatedRecord(json: compact)
                    #expect(fromCompact == record)
                    #expect(fromCompact.line(.compact) == compact)
                    #expect(fromCompact.canonicalJSON == text)
                    #expect(compact.utf8.count <= text.utf8.count)
                    #expect(ReplicatedRecord.line(collection: record.collection, id: record.id, stateJSON: record.state.compactJSON) == compact)
                    // The digest's shortcut: the expanded text copied out of the compact one.
                    #expect(CompactTranscoder.expanded(stateJSON: record.state.compactJSON) == record.state.canonicalJSON)
                }
            }
        }
    }
}
