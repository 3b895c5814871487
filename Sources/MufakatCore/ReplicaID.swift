/// The name of one replica: a client's local store or the hub.
///
/// Created once, at random, when a replica is initialised, and never reused: every write
/// operation is named by a ``Dot`` made of this id and a counter, so two replicas sharing an
/// id would corrupt each other's history.
///
/// Ids are short lowercase strings (`[a-z0-9-]`, 1–64 characters). Those Mufakat generates
/// are 16 hexadecimal digits (64 random bits):
///
/// ```swift
/// let me = ReplicaID.random()          // e.g. "3f9c0a17be2d4410"
/// let hub = try ReplicaID("hub-jakarta")
/// ```
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Validates `rawValue`: 1–64 characters from `a-z`, `0-9` and `-`.
    public init(_ rawValue: String) throws(MufakatError) {
        guard Self.isValid(rawValue) else {
            throw MufakatError(
                .malformed,
                "replica id '\(rawValue)' is not valid: use 1 to 64 characters from a-z, 0-9 and '-'",
                value: rawValue)
        }
        self.rawValue = rawValue
    }

    init(unchecked rawValue: String) { self.rawValue = rawValue }

    /// A fresh random id of 16 hexadecimal digits.
    public static func random() -> ReplicaID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// A random id drawn from `generator`; tests use a seeded one for reproducible runs.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> ReplicaID {
        let bits = generator.next() as UInt64
        let hex = String(bits, radix: 16)
        return ReplicaID(unchecked: String(repeating: "0", count: 16 - hex.count) + hex)
    }

    public static func isValid(_ rawValue: String) -> Bool {
        let utf8 = rawValue.utf8
        guard (1...64).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
    }

    /// Byte order, which for the allowed ASCII characters is also the order SQLite uses.
    public static func < (lhs: ReplicaID, rhs: ReplicaID) -> Bool {
        lhs.rawValue.utf8Precedes(rhs.rawValue)
    }

    public var description: String { rawValue }
}
