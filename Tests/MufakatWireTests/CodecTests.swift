import CompressNIO
import Foundation
import MufakatCore
import MufakatTesting
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing
@testable import MufakatWire

@Suite("Frame codec")
struct CodecTests {
    @Test("every message round-trips through the decoder, input split at every boundary")
    func roundTripsVerifier() throws {
        var pairs: [(ByteBuffer, [Message])] = []
        for (_, message) in Fixtures.messages {
            var bytes = ByteBuffer()
            try MessageEncoder().encode(data: message, out: &bytes)
            pairs.append((bytes, [message]))
        }
        let big = Message.changes(Changes(through: 9, more: false), records: (0..<200).map { Fixtures.report($0) })
        var bigBytes = ByteBuffer()
        try MessageEncoder().encode(data: big, out: &bigBytes)
        pairs.append((bigBytes, [big]))
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { MessageDecoder() }
    }

    @Test("through an EmbeddedChannel: several frames in one read, then a clean finish")
    func embeddedChannel() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MessageDecoder()))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MessageEncoder()))
        var bytes = ByteBuffer()
        for (_, message) in Fixtures.messages { try MessageEncoder().encode(data: message, out: &bytes) }
        try channel.writeInbound(bytes)
        for (_, message) in Fixtures.messages {
            #expect(try channel.readInbound(as: Message.self) == message)
        }
        try channel.writeOutbound(Message.bye)
        var written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        let frame = try #require(try written.readWireFrame(limits: .default))
        #expect(try Message(frame: frame) == .bye)
        #expect(try channel.finish().isClean)
    }

    @Test("a partial frame consumes nothing")
    func partialFrame() throws {
        var whole = ByteBuffer()
        try MessageEncoder().encode(data: Fixtures.messages[0].message, out: &whole)
        for cut in [0, 1, 3, 4, 5, whole.readableBytes - 1] {
            var partial = whole.getSlice(at: 0, length: cut)!
            #expect(try partial.readWireFrame(limits: .default) == nil)
            #expect(partial.readerIndex == 0)
        }
    }

    @Test("a frame announcing more than the limit is refused from its first 4 bytes")
    func tooLargeEarly() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32.max, endianness: .big)
        #expect(throws: WireError(.frameTooLarge, "frame of 4294967295 bytes is over the limit of 16777216 bytes")) {
            try buffer.readWireFrame(limits: .default)
        }
    }

    @Test("bodies of 512 bytes or more are compressed when it saves 1/32; others are not")
    func compressionRule() throws {
        let small = Message.ping(Ping(nonce: 1))
        #expect(try small.frame().flags.isEmpty)
        let batch = Message.push(Push(through: 5, id: "0f3a9c21d4e5b687", after: "", counter: 5), records: (0..<20).map { Fixtures.report($0) })
        let frame = try batch.frame()
        #expect(frame.flags == .compressed)
        #expect(try frame.body.readableBytes < batch.encodeBody().readableBytes / 2)
        #expect(try batch.frame(allowCompression: false).flags.isEmpty)
        // Random bytes do not compress by 1/32: sent as they are.
        var generator = SplitMix64(seed: 1)
        let noise = ByteBuffer(bytes: (0..<2_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        #expect(try WireFrame.encoding(body: noise).flags.isEmpty)
        #expect(try WireFrame.encoding(body: noise).body == noise)
        // Just under the threshold: never compressed, however repetitive.
        let repetitive = ByteBuffer(repeating: UInt8(ascii: "a"), count: WireFrame.compressionThreshold - 1)
        #expect(try WireFrame.encoding(body: repetitive).flags.isEmpty)
        let atThreshold = ByteBuffer(repeating: UInt8(ascii: "a"), count: WireFrame.compressionThreshold)
        #expect(try WireFrame.encoding(body: atThreshold).flags == .compressed)
    }

    @Test("changes served from stored lines are byte for byte the changes of those records, and decode to them, in both forms",
          arguments: [RecordForm.compact, .expanded])
    func changesFromStoredLines(_ form: RecordForm) throws {
        let records = (0..<30).map { Fixtures.report($0) } + [Fixtures.position()]
        let header = Changes(through: 31, more: true)
        let served = try Message.changesLines(header, lines: records.map { $0.line(form) }).encodeBody()
        #expect(served == (try Message.changes(header, records: records).encodeBody(form: form)))
        // The hub's path: a state text as stored, wrapped into a line without decoding.
        let stored = records.map { ReplicatedRecord.line(collection: $0.collection, id: $0.id, stateJSON: $0.state.json(form)) }
        #expect(stored == records.map { $0.line(form) })
        #expect(try Message(frame: WireFrame(flags: [], body: served), form: form) == .changes(header, records: records))
    }

    @Test("a truncated zlib stream is an error, though compress-nio's one-shot decompress accepts it")
    func truncatedStream() throws {
        let body = try Message.changes(Changes(through: 1, more: false), records: (0..<30).map { Fixtures.report($0) }).encodeBody()
        var compressed = try Zlib.deflate(body)
        compressed.moveWriterIndex(to: compressed.writerIndex - 4)
        // The library's one-shot path says nothing about the missing trailer …
        var oneShot = compressed
        let partial = try oneShot.decompress(with: .zlib())
        #expect(partial.readableBytes > 0)
        // … the frame decoder does.
        #expect(throws: WireError.self) {
            try Message(frame: WireFrame(flags: .compressed, body: compressed))
        }
        do {
            _ = try Message(frame: WireFrame(flags: .compressed, body: compressed))
        } catch {
            #expect(error.code == .badCompression)
            #expect(error.message.contains("ends early"))
        }
    }

    @Test("a zlib bomb of 1 GiB of zeros is refused quickly, holding at most about a line limit")
    func zlibBomb() throws {
        let compressor = try ZlibCompressor(algorithm: .zlib)
        var bomb = ByteBuffer()
        var zeros = ByteBuffer(repeating: 0, count: 1 << 20)
        var out = ByteBuffer()
        out.reserveCapacity(64 << 10)
        for index in 0..<1_024 {
            var chunk = zeros
            let flush: CompressNIOFlush = index == 1_023 ? .finish : .no
            while true {
                out.clear()
                do {
                    try compressor.deflate(from: &chunk, to: &out, flush: flush)
                    bomb.writeImmutableBuffer(out)
                    if chunk.readableBytes == 0 { break }
                } catch let error as CompressNIOError where error == .bufferOverflow {
                    bomb.writeImmutableBuffer(out)
                    if chunk.readableBytes == 0 && flush == .no { break }
                }
            }
        }
        zeros.clear()
        #expect(bomb.readableBytes < WireLimits.default.frameBytes)
        let started = ContinuousClock.now
        do {
            _ = try Message(frame: WireFrame(flags: .compressed, body: bomb))
            Issue.record("the bomb was accepted")
        } catch {
            // No newline in a gigabyte of zeros: the line limit (1 MiB) stops it long before
            // the inflate limit (64 MiB).
            #expect(error.code == .lineTooLong)
        }
        let elapsed = ContinuousClock.now - started
        print("zlib bomb: \(bomb.readableBytes) compressed bytes (1 GiB inflated) refused after \(elapsed)")
    }

    @Test("the inflate limit stops inflating at the limit, not at the end of the stream")
    func inflateLimitIsEnforcedWhileInflating() throws {
        let lines = String(repeating: #"{"type":"bye"}"# + "\n", count: 1) + String(repeating: "\n", count: 0)
        let padding = String(repeating: " ", count: 32 << 20)  // 32 MiB of spaces on the header line
        let body = ByteBuffer(string: lines.dropLast() + padding + "\n")
        let compressed = try Zlib.deflate(body)
        let limits = WireLimits(inflatedBytes: 4 << 20, lineBytes: 64 << 20)
        do {
            _ = try Message(frame: WireFrame(flags: .compressed, body: compressed), limits: limits)
            Issue.record("accepted")
        } catch {
            #expect(error.code == .inflateLimit)
            let stoppedAt = Int(error.message.split(separator: " ").last!.dropLast())!
            #expect(stoppedAt <= limits.inflatedBytes + Zlib.window)
        }
    }

    @Test("10,000 random and mutated frames never crash or hang the decoder")
    func fuzz() throws {
        var generator = SplitMix64(seed: 20_261_129)
        var seeds: [ByteBuffer] = []
        for (_, message) in Fixtures.messages {
            seeds.append(Fixtures.frameBytes(try message.frame()))
            seeds.append(Fixtures.frameBytes(try message.frame(allowCompression: false)))
            seeds.append(Fixtures.frameBytes(WireFrame(flags: .compressed, body: try Zlib.deflate(message.encodeBody()))))
        }
        var outcomes: [String: Int] = [:]
        for round in 0..<10_000 {
            var bytes: [UInt8]
            if round % 5 == 0 {
                bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                if bytes.count >= 5, round % 10 == 0 {
                    let length = UInt32(bytes.count - 4)
                    bytes[0] = UInt8(length >> 24); bytes[1] = UInt8(length >> 16 & 0xff)
                    bytes[2] = UInt8(length >> 8 & 0xff); bytes[3] = UInt8(length & 0xff)
                    bytes[4] &= 1
                }
            } else {
                bytes = Array(seeds[round % seeds.count].readableBytesView)
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0 where !bytes.isEmpty:
                        bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
                    case 1 where bytes.count > 5:
                        bytes.removeLast(Int.random(in: 1...(bytes.count - 5), using: &generator))
                    case 2:
                        bytes.insert(UInt8.random(in: 0...255, using: &generator), at: Int.random(in: 0...bytes.count, using: &generator))
                    default:
                        if bytes.count > 9 { bytes[5 + Int.random(in: 0..<(bytes.count - 5), using: &generator)] = UInt8(ascii: "\n") }
                    }
                }
            }
            var buffer = ByteBuffer(bytes: bytes)
            do {
                while let frame = try buffer.readWireFrame(limits: .default) {
                    _ = try Message(frame: frame)
                    outcomes["decoded", default: 0] += 1
                }
                outcomes["incomplete", default: 0] += 1
            } catch {
                outcomes[error.code.rawValue, default: 0] += 1
            }
        }
        print("fuzz outcomes over 10,000 frames: \(outcomes.sorted { $0.key < $1.key })")
        #expect(outcomes.count >= 8, "mutations should reach many error classes")
    }
}

