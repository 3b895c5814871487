/// A violation of the wire protocol, with the stable code that goes into the `error` frame.
///
/// Every way a peer can send something wrong maps to one of these; the receiver answers
/// with an `error` message carrying ``code`` and ``message`` and closes the connection.
/// Other connections are not affected.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// The stable error codes of `protocol/PROTOCOL.md` §Errors.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }

        // Framing
        /// The length prefix announces more than the frame limit (or less than 1 byte).
        public static let frameTooLarge = Code("frame-too-large")
        /// Flag bits other than bit 0 are set.
        public static let badFlags = Code("bad-flags")
        /// The body inflates past the inflated-size limit.
        public static let inflateLimit = Code("inflate-limit")
        /// The zlib stream is corrupt, truncated, or followed by extra bytes.
        public static let badCompression = Code("bad-compression")
        // Body
        public static let badUTF8 = Code("bad-utf8")
        /// A carriage return, a byte-order mark, or an empty line in a body.
        public static let badLine = Code("bad-line")
        /// A line is longer than the line limit.
        public static let lineTooLong = Code("line-too-long")
        /// More record lines than the records-per-frame limit.
        public static let tooManyRecords = Code("too-many-records")
        /// A line is not a JSON object with unique member names (or the body is empty); a
        /// number with a leading zero.
        public static let badJSON = Code("bad-json")
        /// The header has no `type`.
        public static let missingType = Code("missing-type")
        /// The header's `type` is not one this version knows.
        public static let unknownType = Code("unknown-type")
        /// A header member is missing, of the wrong kind, or out of range; a number in a
        /// header that is not an integer from 0 to 2^64 − 1 in plain decimal.
        public static let badField = Code("bad-field")
        /// A record line is JSON but not a valid record state.
        public static let badRecord = Code("bad-record")
        // Transport
        /// A hub that serves TLS got a plain-TCP connection: it answers with this one frame,
        /// in plain, and closes (PROTOCOL.md §12).
        public static let tlsRequired = Code("tls-required")
        // Session
        /// A well-formed message that is not allowed at this point of the session.
        public static let unexpectedMessage = Code("unexpected-message")
        public static let versionUnsupported = Code("version-unsupported")
        /// The token is unknown or revoked, or the replica belongs to another token.
        public static let unauthorized = Code("unauthorized")
        /// The replica id in `hello` is bound to another token on this hub (a hub rebuilt
        /// empty lets the first token to use an id keep it). The client takes a new id.
        public static let replicaTaken = Code("replica-taken")
        /// No `hello` within the allowed time.
        public static let helloTimeout = Code("hello-timeout")
        /// Nothing received for longer than the idle limit.
        public static let idleTimeout = Code("idle-timeout")
        /// A push that does not follow the hub's last acknowledged push of its replica id:
        /// another copy of the replica synced meanwhile. Sync again: the copy then takes a
        /// new replica id and keeps its changes.
        public static let diverged = Code("diverged")
        /// The hub is shutting down; try again later.
        public static let shuttingDown = Code("shutting-down")
        /// The hub already serves as many connections as it is configured for; try again later.
        public static let tooManyConnections = Code("too-many-connections")
        /// Something failed inside the hub; nothing of the message was applied.
        public static let internalError = Code("internal")
    }
}
