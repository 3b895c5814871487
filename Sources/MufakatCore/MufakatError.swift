/// An error a person can act on: a stable code, a sentence that says what was wrong and
/// what is accepted, and the offending value when there is one.
///
/// Mufakat never shows Swift type names or stack traces to the people who use it. Every
/// failure that can reach the command line or the wire is one of these, so the CLI can print
/// ``message`` and scripts can branch on ``code``:
///
/// ```swift
/// throw MufakatError(.corruption, "record positions/iom:a1 holds two different values for dot r1:3")
/// ```
public struct MufakatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable name for the kind of failure.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Two entries carry the same dot with different contents: the data was tampered
        /// with or a replica reused a counter. Never resolved by picking one.
        public static let corruption = Code("corruption")
        /// A value or document failed the catalogue's rules.
        public static let invalid = Code("invalid")
        /// A record state or its JSON is malformed.
        public static let malformed = Code("malformed")
        /// A write used a dot this record has already seen.
        public static let staleDot = Code("stale-dot")
        /// Named collection, field or record does not exist.
        public static let notFound = Code("not-found")
        /// Another process holds what was asked for (a hub folder an older hub serves).
        public static let busy = Code("busy")
        /// The token's role and organisation give no right to this write (``WriteRights``).
        public static let forbidden = Code("forbidden")
    }

    public var code: Code
    public var message: String
    /// The value that caused the error, when showing it helps.
    public var value: String?

    public init(_ code: Code, _ message: String, value: String? = nil) {
        self.code = code
        self.message = message
        self.value = value
    }

    public var description: String { message }
}
