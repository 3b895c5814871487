import Testing
@testable import MufakatCore

private let a = try! ReplicaID("a")
private let b = try! ReplicaID("b")
private let c = try! ReplicaID("c")

@Suite("VersionVector")
struct VersionVectorTests {
    struct CompareCase: CustomTestStringConvertible, Sendable {
        let name: String
        let left: VersionVector
        let right: VersionVector
        let expected: VersionVector.Order
        var testDescription: String { name }
    }

    static let compareCases: [CompareCase] = [
        .init(name: "both empty", left: [:], right: [:], expected: .equal),
        .init(name: "same entries", left: [a: 3, b: 1], right: [b: 1, a: 3], expected: .equal),
        .init(name: "explicit zero equals missing", left: VersionVector([a: 2, b: 0]), right: [a: 2], expected: .equal),
        .init(name: "empty before anything", left: [:], right: [a: 1], expected: .before),
        .init(name: "anything after empty", left: [a: 1], right: [:], expected: .after),
        .init(name: "one counter behind", left: [a: 1, b: 2], right: [a: 2, b: 2], expected: .before),
        .init(name: "one counter ahead", left: [a: 3, b: 2], right: [a: 2, b: 2], expected: .after),
        .init(name: "missing entry on left", left: [a: 2], right: [a: 2, c: 1], expected: .before),
        .init(name: "missing entry on right", left: [a: 2, c: 1], right: [a: 2], expected: .after),
        .init(name: "crossed counters", left: [a: 2, b: 1], right: [a: 1, b: 2], expected: .concurrent),
        .init(name: "disjoint replicas", left: [a: 1], right: [b: 1], expected: .concurrent),
        .init(name: "missing entries both sides", left: [a: 5, b: 1], right: [a: 5, c: 1], expected: .concurrent),
        .init(name: "max counter equal", left: [a: .max], right: [a: .max], expected: .equal),
        .init(name: "max counter after max-1", left: [a: .max], right: [a: .max - 1], expected: .after),
        .init(name: "max counter before max on more replicas", left: [a: .max], right: [a: .max, b: .max], expected: .before),
        .init(name: "max counters crossed", left: [a: .max, b: 1], right: [a: 1, b: .max], expected: .concurrent),
    ]

    @Test("compare", arguments: compareCases)
    func compare(_ testCase: CompareCase) {
        #expect(testCase.left.compare(to: testCase.right) == testCase.expected)
        let mirrored: VersionVector.Order = switch testCase.expected {
        case .before: .after
        case .after: .before
        case let other: other
        }
        #expect(testCase.right.compare(to: testCase.left) == mirrored)
    }

    struct MergeCase: Sendable {
        let left: VersionVector
        let right: VersionVector
        let expected: VersionVector
    }

    @Test("merge is the pointwise maximum", arguments: [
        MergeCase(left: [:], right: [:], expected: [:]),
        MergeCase(left: [a: 1], right: [:], expected: [a: 1]),
        MergeCase(left: [a: 1, b: 5], right: [a: 3, c: 2], expected: [a: 3, b: 5, c: 2]),
        MergeCase(left: [a: .max], right: [a: 7, b: .max], expected: [a: .max, b: .max]),
    ])
    func merge(_ testCase: MergeCase) {
        #expect(testCase.left.merging(testCase.right) == testCase.expected)
        #expect(testCase.right.merging(testCase.left) == testCase.expected)
        let merged = testCase.left.merging(testCase.right)
        #expect(merged.compare(to: testCase.left) != .before)
        #expect(merged.compare(to: testCase.right) != .before)
    }

    @Test("contains a dot iff its counter is at most the entry")
    func containsDot() {
        let vector: VersionVector = [a: 3, b: .max]
        #expect(vector.contains(Dot(replica: a, counter: 1)))
        #expect(vector.contains(Dot(replica: a, counter: 3)))
        #expect(!vector.contains(Dot(replica: a, counter: 4)))
        #expect(vector.contains(Dot(replica: b, counter: .max)))
        #expect(!vector.contains(Dot(replica: c, counter: 1)))
    }

    @Test("setting a counter to zero removes the entry")
    func zeroRemoves() {
        var vector: VersionVector = [a: 2]
        vector[a] = 0
        #expect(vector.isEmpty)
        #expect(vector == VersionVector())
    }

    @Test("replica ids are checked and random ones are valid")
    func replicaIDs() throws {
        #expect(throws: MufakatError.self) { try ReplicaID("") }
        #expect(throws: MufakatError.self) { try ReplicaID("Has Upper") }
        #expect(throws: MufakatError.self) { try ReplicaID(String(repeating: "a", count: 65)) }
        let random = ReplicaID.random()
        #expect(random.rawValue.count == 16)
        #expect(try ReplicaID(random.rawValue) == random)
        #expect(ReplicaID.random() != random)
    }
}
