import NIOCore

/// The text of a frame body, split into lines with the limits checked as bytes arrive.
///
/// The body is UTF-8 lines, each ended by `\n` (the last one may omit it): line 1 is the
/// JSON header, every further line one record.
struct FrameBody {
    private(set) var bytes: ByteBuffer
    private(set) var lineStarts: [Int] = [0]
    private var currentLineLength = 0
    let limits: WireLimits

    init(limits: WireLimits, capacity: Int) {
        self.limits = limits
        bytes = ByteBuffer()
        bytes.reserveCapacity(capacity)
    }

    /// The body of `frame`, inflated if it is compressed.
    static func read(_ frame: WireFrame, limits: WireLimits) throws(WireError) -> FrameBody {
        if frame.flags.contains(.compressed) {
            var body = FrameBody(limits: limits, capacity: min(limits.inflatedBytes, frame.body.readableBytes * 4))
            try Zlib.inflate(frame.body) { (chunk: inout ByteBuffer) throws(WireError) in
                guard body.bytes.readableBytes + chunk.readableBytes <= limits.inflatedBytes else {
                    throw WireError(
                        .inflateLimit,
                        "the body inflates past the limit of \(limits.inflatedBytes) bytes (stopped at \(body.bytes.readableBytes + chunk.readableBytes))")
                }
                try body.append(chunk)
            }
            return body
        }
        // The body-size limit holds for every body, compressed or not.
        guard frame.body.readableBytes <= limits.inflatedBytes else {
            throw WireError(
                .inflateLimit, "the body is \(frame.body.readableBytes) bytes, above the body limit of \(limits.inflatedBytes) bytes")
        }
        var body = FrameBody(limits: limits, capacity: 0)
        body.bytes = frame.body
        try body.scan(from: 0)
        return body
    }

    private mutating func append(_ chunk: ByteBuffer) throws(WireError) {
        let start = bytes.readableBytes
        bytes.writeImmutableBuffer(chunk)
        try scan(from: start)
    }

    /// Finds line ends in the bytes from `start` on, checking line length and count.
    private mutating func scan(from start: Int) throws(WireError) {
        let limits = self.limits
        var length = currentLineLength
        var starts = lineStarts
        let result: WireError? = bytes.withUnsafeReadableBytes { raw -> WireError? in
            var index = start
            while index < raw.count {
                guard let newline = raw[index...].firstIndex(of: UInt8(ascii: "\n")) else {
                    length += raw.count - index
                    break
                }
                length += newline - index
                if length > limits.lineBytes { break }
                length = 0
                starts.append(newline + 1)
                if starts.count - 2 > limits.records {
                    return WireError(.tooManyRecords, "more than \(limits.records) records in one frame")
                }
                index = newline + 1
            }
            if length > limits.lineBytes {
                return WireError(
                    .lineTooLong, "line \(starts.count) is longer than the limit of \(limits.lineBytes) bytes")
            }
            return nil
        }
        if let result { throw result }
        currentLineLength = length
        lineStarts = starts
    }

    /// The lines, without their newlines; a final newline does not start an empty line.
    var lines: [ByteBuffer] {
        var result: [ByteBuffer] = []
        result.reserveCapacity(lineStarts.count)
        let total = bytes.readableBytes
        for (index, start) in lineStarts.enumerated() {
            let end = index + 1 < lineStarts.count ? lineStarts[index + 1] - 1 : total
            if index + 1 == lineStarts.count && start == total && index > 0 { break }
            result.append(bytes.getSlice(at: bytes.readerIndex + start, length: end - start)!)
        }
        return result
    }
}
