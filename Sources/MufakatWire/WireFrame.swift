import NIOCore

/// One frame as it crosses the wire: `u32` big-endian length of what follows, a flags
/// byte, and the body.
///
/// ```
///  0                   1                   2                   3
/// +--------+--------+--------+--------+--------+----------------------
/// |        length (u32, big-endian)   | flags  | body (length-1 bytes)
/// +--------+--------+--------+--------+--------+----------------------
/// ```
///
/// Flag bit 0 says the body is zlib-compressed (RFC 1950). Every other bit is reserved and
/// must be 0.
public struct WireFrame: Hashable, Sendable {
    public struct Flags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let compressed = Flags(rawValue: 1)
    }

    /// Bodies at least this long are offered to zlib.
    public static let compressionThreshold = 512

    public var flags: Flags
    /// The body as sent: compressed when ``flags`` says so.
    public var body: ByteBuffer

    public init(flags: Flags, body: ByteBuffer) {
        self.flags = flags
        self.body = body
    }

    /// A frame for `body` (uncompressed text), compressed when the body is at least
    /// ``compressionThreshold`` bytes and zlib saves at least 1/32 of it.
    public static func encoding(body: ByteBuffer, allowCompression: Bool = true) throws -> WireFrame {
        guard allowCompression, body.readableBytes >= compressionThreshold else {
            return WireFrame(flags: [], body: body)
        }
        let compressed = try Zlib.deflate(body)
        if compressed.readableBytes <= body.readableBytes - body.readableBytes / 32 {
            return WireFrame(flags: .compressed, body: compressed)
        }
        return WireFrame(flags: [], body: body)
    }
}

extension ByteBuffer {
    /// Writes `frame` with its length prefix and returns the bytes written.
    @discardableResult
    public mutating func writeWireFrame(_ frame: WireFrame) -> Int {
        var written = writeInteger(UInt32(1 + frame.body.readableBytes), endianness: .big)
        written += writeInteger(frame.flags.rawValue)
        written += writeImmutableBuffer(frame.body)
        return written
    }

    /// Reads one whole frame, or returns `nil` and consumes nothing when the buffer does
    /// not hold one yet.
    ///
    /// The length and flags are checked as soon as their bytes arrive, before waiting for
    /// (or allocating) the body: a peer announcing a 4 GiB frame is refused at once.
    public mutating func readWireFrame(limits: WireLimits) throws(WireError) -> WireFrame? {
        guard let length = getInteger(at: readerIndex, endianness: .big, as: UInt32.self) else { return nil }
        guard length >= 1, Int(length) <= limits.frameBytes else {
            throw WireError(
                .frameTooLarge,
                length == 0
                    ? "frame length 0: a frame holds at least its flags byte"
                    : "frame of \(length) bytes is over the limit of \(limits.frameBytes) bytes")
        }
        guard let flagsByte = getInteger(at: readerIndex + 4, as: UInt8.self) else { return nil }
        let flags = WireFrame.Flags(rawValue: flagsByte)
        guard flags.subtracting(.compressed).isEmpty else {
            throw WireError(
                .badFlags,
                "flags byte 0x\(String(flagsByte, radix: 16)) sets reserved bits; only bit 0 (zlib) is defined")
        }
        guard readableBytes >= 4 + Int(length) else { return nil }
        moveReaderIndex(forwardBy: 5)
        let body = readSlice(length: Int(length) - 1)!
        return WireFrame(flags: flags, body: body)
    }
}
