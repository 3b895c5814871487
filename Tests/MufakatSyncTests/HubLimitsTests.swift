import Foundation
import MufakatHub
import MufakatTesting
import MufakatWire
import NIOCore
import Testing

@Suite("Hub limits: small frames before hello, a connection limit")
struct HubLimitsTests {
    /// The header and first bytes of an uncompressed frame whose body is `bodyBytes` long.
    private func frameStart(bodyBytes: Int) -> ByteBuffer {
        var bytes = ByteBuffer()
        bytes.writeInteger(UInt32(1 + bodyBytes), endianness: .big)
        bytes.writeInteger(UInt8(0))
        bytes.writeString(#"{"nonce":1,"#)
        return bytes
    }

    /// A whole ping frame padded with an unknown member to `bodyBytes` of body.
    private func paddedPing(bodyBytes: Int) -> ByteBuffer {
        let head = #"{"nonce":7,"pad":""#
        let tail = #"","type":"ping"}"#
        let text = head + String(repeating: "x", count: bodyBytes - head.utf8.count - tail.utf8.count) + tail
        var bytes = ByteBuffer()
        bytes.writeWireFrame(WireFrame(flags: [], body: ByteBuffer(string: text)))
        return bytes
    }

    @Test("a 200 KiB frame before hello is refused with the limit before hello; after welcome it is served")
    func frameLimitBeforeHello() async throws {
        try await withHub { hub in
            let token = try hub.token()
            try await RawHubConnection.with(hub) { connection in
                // The length prefix alone is refused: the rest of the body need not be sent.
                try await connection.send(bytes: frameStart(bodyBytes: 200 << 10))
                guard case .error(let error) = try await connection.receive() else {
                    Issue.record("no error frame")
                    return
                }
                #expect(error.code == .frameTooLarge)
                #expect(error.message.hasPrefix("frame of 204801 bytes is over the limit of 65536 bytes before hello"))
                #expect(try await connection.receive() == nil, "the hub closes after an error")
            }
            try await RawHubConnection.with(hub) { connection in
                guard case .welcome = try await connection.hello(replica: "big-frames", token: token) else {
                    Issue.record("no welcome")
                    return
                }
                try await connection.send(bytes: paddedPing(bodyBytes: 200 << 10))
                #expect(try await connection.receive() == .pong(Ping(nonce: 7)))
                try await connection.send(.bye)
            }
        }
    }

    @Test("beyond --max-connections a connection gets too-many-connections; one closing makes room")
    func connectionLimit() async throws {
        try await withHub(configure: { $0.maxConnections = 2 }) { hub in
            let token = try hub.token()
            try await RawHubConnection.with(hub) { first in
                guard case .welcome = try await first.hello(replica: "first", token: token) else { throw SimulatedCrash() }
                try await RawHubConnection.with(hub) { second in
                    guard case .welcome = try await second.hello(replica: "second", token: token) else { throw SimulatedCrash() }
                    try await RawHubConnection.with(hub) { third in
                        guard case .error(let error) = try await third.receive() else {
                            Issue.record("the third connection was not refused")
                            return
                        }
                        #expect(error.code == .tooManyConnections)
                        #expect(error.message.contains("limit of 2 connections"))
                        #expect(try await third.receive() == nil)
                    }
                    // The second session still works.
                    try await second.send(.ping(Ping(nonce: 2)))
                    #expect(try await second.receive() == .pong(Ping(nonce: 2)))
                }
                // `second` is closed; the hub notices on its own event loop, so a new connection
                // may be refused a few times before the count goes down.
                var admitted = false
                for _ in 0..<100 where !admitted {
                    // A refused connection may be closed before our hello is written: that is
                    // a refusal too, not a failure.
                    admitted = (try? await RawHubConnection.with(hub) { again in
                        if case .welcome = try await again.hello(replica: "again", token: token) { return true }
                        return false
                    }) ?? false
                    if !admitted { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(admitted, "a connection is admitted again once one closed")
            }
        }
    }

    @Test("a wrong token is answered unauthorized, and the next hello from the address still gets its answer")
    func wrongTokenThenRight() async throws {
        try await withHub { hub in
            let token = try hub.token()
            try await RawHubConnection.with(hub) { connection in
                guard case .error(let error) = try await connection.hello(replica: "guess", token: "mft_wrong") else {
                    Issue.record("a wrong token was not refused")
                    return
                }
                #expect(error.code == .unauthorized)
            }
            try await RawHubConnection.with(hub) { connection in
                guard case .welcome = try await connection.hello(replica: "right", token: token) else {
                    Issue.record("the right token was refused after a wrong one")
                    return
                }
            }
        }
    }
}
