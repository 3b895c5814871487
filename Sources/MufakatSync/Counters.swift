import MufakatCore

/// The bounds every side checks counters and sequences against.
///
/// Counters are unsigned 64-bit numbers on the wire, but no replica id may use one above
/// ``maxCounter`` (2^63 − 1): SQLite stores integers as signed 64-bit, and no replica writes
/// 9.2 × 10^18 operations (a million a second for 292,000 years). A replica whose next write
/// would pass it takes a new replica id instead (see ``Incarnation``); the hub refuses a
/// push that claims more.
public enum Counters {
    public static let maxCounter = UInt64(Int64.max)

    /// Whether every counter in `context` is within ``maxCounter``.
    public static func isInRange(_ context: VersionVector) -> Bool {
        context.counters.values.allSatisfy { $0 <= maxCounter }
    }
}

/// A push's name: 16 random hexadecimal digits. The hub remembers the last one it
/// acknowledged from each replica id; each push names the one before it, so two copies of
/// one replica folder can never both extend the same history.
public enum PushID {
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> String {
        ReplicaID.random(using: &generator).rawValue
    }
}
