/// A map from replica to the highest counter seen from it: the causal context of a state.
///
/// `V` contains dot `(r, n)` when `V[r] >= n`. Replicas with no entry count as 0, so the
/// vector never stores zeros: two vectors that mean the same thing are equal.
///
/// ```swift
/// var a: VersionVector = [r1: 3]
/// let b: VersionVector = [r1: 2, r2: 1]
/// a.compare(to: b)   // .concurrent
/// a.merge(b)         // [r1: 3, r2: 1]
/// ```
public struct VersionVector: Hashable, Sendable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// How two vectors relate in causal order.
    public enum Order: Sendable, Hashable {
        /// Both have seen exactly the same operations.
        case equal
        /// The receiver has seen a strict subset of the other's operations.
        case before
        /// The receiver has seen a strict superset of the other's operations.
        case after
        /// Each has seen operations the other has not.
        case concurrent
    }

    public private(set) var counters: [ReplicaID: UInt64]

    public init() { counters = [:] }

    public init(_ counters: [ReplicaID: UInt64]) {
        self.counters = counters.filter { $0.value != 0 }
    }

    public init(dictionaryLiteral elements: (ReplicaID, UInt64)...) {
        self.init(Dictionary(elements, uniquingKeysWith: max))
    }

    /// The counter for `replica`, 0 when the vector has none.
    public subscript(replica: ReplicaID) -> UInt64 {
        get { counters[replica] ?? 0 }
        set { counters[replica] = newValue == 0 ? nil : newValue }
    }

    public var isEmpty: Bool { counters.isEmpty }

    /// Whether the operation named by `dot` is part of this context.
    public func contains(_ dot: Dot) -> Bool {
        self[dot.replica] >= dot.counter
    }

    /// Pointwise maximum: afterwards the vector has seen everything either had seen.
    public mutating func merge(_ other: VersionVector) {
        for (replica, counter) in other.counters where counter > self[replica] {
            counters[replica] = counter
        }
    }

    public func merging(_ other: VersionVector) -> VersionVector {
        var copy = self
        copy.merge(other)
        return copy
    }

    /// Compares causal histories entry by entry; a missing entry counts as 0.
    public func compare(to other: VersionVector) -> Order {
        var someGreater = false
        var someLess = false
        for (replica, counter) in counters {
            let theirs = other[replica]
            if counter > theirs { someGreater = true } else if counter < theirs { someLess = true }
        }
        for (replica, counter) in other.counters where counters[replica] == nil && counter > 0 {
            someLess = true
        }
        switch (someGreater, someLess) {
        case (false, false): return .equal
        case (true, false): return .after
        case (false, true): return .before
        case (true, true): return .concurrent
        }
    }

    /// Entries sorted by replica, the canonical order.
    public var sorted: [(replica: ReplicaID, counter: UInt64)] {
        counters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public var description: String {
        "{" + sorted.map { "\($0.replica):\($0.counter)" }.joined(separator: ", ") + "}"
    }
}
