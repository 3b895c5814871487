/// The sizes a receiver accepts, checked before anything is allocated for them.
///
/// The hub announces its limits in `welcome`; a client keeps its batches under them.
public struct WireLimits: Hashable, Sendable, Codable {
    /// Most bytes after the length prefix (flags + body) of one frame.
    public var frameBytes: Int
    /// Most bytes a compressed body may inflate to; checked while inflating.
    public var inflatedBytes: Int
    /// Most bytes in one line of a body (header or record), newline excluded.
    public var lineBytes: Int
    /// Most record lines in one frame.
    public var records: Int

    public init(
        frameBytes: Int = 16 << 20, inflatedBytes: Int = 64 << 20, lineBytes: Int = 1 << 20, records: Int = 10_000
    ) {
        self.frameBytes = frameBytes
        self.inflatedBytes = inflatedBytes
        self.lineBytes = lineBytes
        self.records = records
    }

    public static let `default` = WireLimits()

    /// What a hub accepts from a connection that has not authenticated yet: enough for a
    /// `hello` (a few hundred bytes), too little for an anonymous peer to make the hub
    /// buffer, inflate or parse megabytes. The full limits apply once the token is checked.
    public static let beforeHello = WireLimits(frameBytes: 64 << 10, inflatedBytes: 64 << 10, lineBytes: 64 << 10)
}
