import Foundation
import NIOCore
import NIOEmbedded
import Testing
@testable import MufakatWire

@Suite("Session limits: small frames before hello, the full limits after")
struct SessionLimitsTests {
    /// A ping padded with an unknown member to `bytes` of body.
    private func paddedPing(_ bytes: Int) -> String {
        let head = #"{"nonce":1,"pad":""#
        let tail = #"","type":"ping"}"#
        return head + String(repeating: "x", count: bytes - head.utf8.count - tail.utf8.count) + tail
    }

    @Test("before hello a 200 KiB frame is refused from its length prefix, naming the limit; after it is a frame like any other")
    func frameDecoder() throws {
        let limits = SessionLimits(afterHello: .default)
        let frame = Fixtures.rawFrame(paddedPing(200 << 10))

        let before = EmbeddedChannel(handler: ByteToMessageHandler(WireFrameDecoder(limits: limits)))
        #expect(throws: WireError(
            .frameTooLarge,
            "frame of 204801 bytes is over the limit of 65536 bytes before hello; a session starts with a small hello, and frames of up to 16777216 bytes (inflating to 67108864) are accepted after welcome"
        )) {
            try before.writeInbound(frame.getSlice(at: 0, length: 8)!)
        }
        _ = try? before.finish()

        limits.authenticated()
        let after = EmbeddedChannel(handler: ByteToMessageHandler(WireFrameDecoder(limits: limits)))
        try after.writeInbound(frame)
        let decoded = try #require(try after.readInbound(as: WireFrame.self))
        #expect(try limits.message(from: decoded) == .ping(Ping(nonce: 1)))
        #expect(try after.finish().isClean)
    }

    @Test("before hello a small compressed frame may not inflate past 64 KiB")
    func inflateBeforeHello() throws {
        let limits = SessionLimits(afterHello: .default)
        // 100 lines of 1,000 bytes: under the line and record limits, over the inflated-size limit.
        let text = #"{"nonce":1,"type":"ping"}"# + "\n" + String(repeating: String(repeating: " ", count: 999) + "\n", count: 100)
        var bytes = Fixtures.rawFrame(text, compress: true)
        let frame = try #require(try bytes.readWireFrame(limits: limits.current))
        #expect(frame.body.readableBytes < 1_000)
        do {
            _ = try limits.message(from: frame)
            Issue.record("decoded before hello")
        } catch {
            #expect(error.code == .inflateLimit)
            #expect(error.message.contains("65536"))
            #expect(error.message.contains("before hello"))
        }
        // After hello it inflates; what follows is refused for what it says, not for its size.
        limits.authenticated()
        do {
            _ = try limits.message(from: frame)
            Issue.record("lines of spaces decoded")
        } catch {
            #expect(error.code != .inflateLimit)
        }
    }

    @Test("a hello fits the limits before hello")
    func helloFits() throws {
        let limits = SessionLimits(afterHello: .default)
        let hello = Fixtures.messages[0].message
        #expect(try limits.message(from: hello.frame()) == hello)
        #expect(!limits.isAuthenticated)
        #expect(limits.current == .beforeHello)
    }
}
