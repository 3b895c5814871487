import CompressNIO
import NIOCore

/// zlib (RFC 1950) for frame bodies, through compress-nio.
///
/// Inflating is streamed through a fixed 64 KiB window so that limits hold while the
/// data is produced: a body that would inflate to a gigabyte fails as soon as it passes
/// the limit, having used at most the limit plus one window of memory. compress-nio's
/// one-shot `decompress` cannot tell a truncated stream from a complete one, so the end
/// of the stream is checked explicitly, and bytes after it are refused.
enum Zlib {
    static func deflate(_ body: ByteBuffer) throws -> ByteBuffer {
        var input = body
        return try input.compress(with: .zlib())
    }

    static let window = 64 * 1024

    /// Inflates `body`, handing each produced chunk to `sink` (which may throw to stop).
    static func inflate(_ body: ByteBuffer, sink: (inout ByteBuffer) throws(WireError) -> Void) throws(WireError) {
        let decompressor: ZlibDecompressor
        do {
            decompressor = try ZlibDecompressor(algorithm: .zlib)
        } catch {
            throw WireError(.internalError, "could not start zlib: \(error)")
        }
        var input = body
        var chunk = ByteBuffer()
        chunk.reserveCapacity(window)
        while true {
            chunk.clear()
            let finished: Bool
            do {
                try decompressor.inflate(from: &input, to: &chunk)
                finished = true
            } catch let error as CompressNIOError where error == .bufferOverflow {
                finished = false
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                throw WireError(.badCompression, "the zlib stream ends early (truncated body)")
            } catch {
                throw WireError(.badCompression, "the body is not a valid zlib stream")
            }
            if chunk.readableBytes > 0 { try sink(&chunk) }
            guard finished else { continue }
            if input.readableBytes > 0 {
                throw WireError(.badCompression, "\(input.readableBytes) bytes follow the end of the zlib stream")
            }
            // All input was consumed without an error: either the stream ended, or it was
            // cut short. Asking for one more byte with no input tells them apart.
            var probeInput = ByteBuffer()
            probeInput.reserveCapacity(1)
            var probe = ByteBuffer()
            probe.reserveCapacity(1)
            do {
                try decompressor.inflate(from: &probeInput, to: &probe)
                return
            } catch let error as CompressNIOError where error == .bufferOverflow {
                try sink(&probe)
            } catch {
                throw WireError(.badCompression, "the zlib stream ends early (truncated body)")
            }
        }
    }
}
