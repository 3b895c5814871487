@testable import MufakatCore

/// A replica in memory for tests: its id, its counter and a clock it controls.
struct SimulatedReplica {
    let id: ReplicaID
    let author: String
    var counter: UInt64 = 0
    var clock: Int64
    var states: [String: RecordState] = [:]

    init(_ name: String, clock: Int64 = 1_700_000_000_000) {
        id = try! ReplicaID(name)
        author = name.capitalized
        self.clock = clock
    }

    mutating func nextDot() -> Dot {
        counter += 1
        return Dot(replica: id, counter: counter)
    }

    mutating func tick() -> Int64 {
        clock += 1_000
        return clock
    }

    mutating func put(_ key: String, _ values: [String: FieldValue]) throws {
        var state = states[key] ?? RecordState()
        var values = values
        if state.isDeleted { values[RecordState.deletedField] = .bool(false) }
        try state.write(values, dot: nextDot(), now: tick(), author: author)
        states[key] = state
    }

    mutating func delete(_ key: String) throws {
        var state = states[key] ?? RecordState()
        try state.delete(dot: nextDot(), now: tick(), author: author)
        states[key] = state
    }

    mutating func resolve(_ key: String, field: String, to value: FieldValue, deleting: Bool = false) throws {
        var state = states[key]!
        try state.write(
            state.resolutionValues(field: field, value: value, deleting: deleting), dot: nextDot(), now: tick(), author: author)
        states[key] = state
    }

    /// Brings a deleted record back (`mufakat restore`).
    mutating func restore(_ key: String) throws {
        var state = states[key]!
        try state.write([RecordState.deletedField: .bool(false)], dot: nextDot(), now: tick(), author: author)
        states[key] = state
    }

    /// Merges every state `other` holds into this replica.
    mutating func receive(from other: SimulatedReplica) throws {
        for (key, theirs) in other.states {
            if let mine = states[key] {
                states[key] = try mine.merging(theirs)
            } else {
                states[key] = theirs
            }
        }
    }

    var records: [ReplicatedRecord] {
        states.map { ReplicatedRecord(collection: "positions", id: $0.key, state: $0.value) }
    }

    var digest: String { try! StoreDigest.of(records) }
}

func sync(_ replicas: inout [SimulatedReplica], _ i: Int, _ j: Int) throws {
    try replicas[i].receive(from: replicas[j])
    try replicas[j].receive(from: replicas[i])
}
