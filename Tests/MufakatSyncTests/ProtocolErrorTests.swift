import Foundation
import MufakatClient
import MufakatStore
import MufakatTesting
import MufakatWire
import NIOCore
import Testing

@Suite("Hub answers protocol errors with an error frame; other sessions carry on")
struct ProtocolErrorTests {
    /// Sends `bytes` (or messages) on one connection and returns the error code the hub answered with.
    private func errorCode(_ hub: TestHub, _ exchange: (RawHubConnection) async throws -> Void) async throws -> WireError.Code? {
        try await RawHubConnection.with(hub) { connection in
            try await exchange(connection)
            while let message = try await connection.receive() {
                if case .error(let error) = message {
                    #expect(try await connection.receive() == nil, "the hub closes after an error")
                    return error.code
                }
            }
            return nil
        }
    }

    @Test("each class of bad input gets its code, while a normal replica syncs alongside")
    func errorsWhileOthersSync() async throws {
        try await withHub { hub in
            let token = try hub.token()
            let replica = try TestReplica(hub: hub, org: "unicef", name: "Sari")
            try replica.store.put("organizations", id: "unicef", [("name", "UNICEF"), ("type", "UNAgency")])

            var badFlags = ByteBuffer()
            badFlags.writeInteger(UInt32(2), endianness: .big)
            badFlags.writeBytes([0x04, 0x7b])
            #expect(try await errorCode(hub) { try await $0.send(bytes: badFlags) } == .badFlags)

            var tooLarge = ByteBuffer()
            tooLarge.writeInteger(UInt32.max, endianness: .big)
            #expect(try await errorCode(hub) { try await $0.send(bytes: tooLarge) } == .frameTooLarge)

            var notJSON = ByteBuffer()
            notJSON.writeWireFrame(WireFrame(flags: [], body: ByteBuffer(string: "hello hub\n")))
            #expect(try await errorCode(hub) { try await $0.send(bytes: notJSON) } == .badJSON)

            var unknownType = ByteBuffer()
            unknownType.writeWireFrame(WireFrame(flags: [], body: ByteBuffer(string: #"{"type":"subscribe"}"# + "\n")))
            #expect(try await errorCode(hub) { try await $0.send(bytes: unknownType) } == .unknownType)

            #expect(try await errorCode(hub) { try await $0.send(.pull(Pull(since: 0, limit: 10))) } == .unexpectedMessage)
            #expect(try await errorCode(hub) { _ = try await $0.send(.hello(Hello(version: 9, replica: "r1", token: token, client: "x"))) } == .versionUnsupported)
            #expect(try await errorCode(hub) { try await $0.send(.hello(Hello(replica: "r1", token: "wrong", client: "x"))) } == .unauthorized)
            #expect(try await errorCode(hub) { connection in
                _ = try await connection.hello(replica: "r2", token: token)
                try await connection.send(.welcome(Welcome(hub: "x", seq: 0, counter: 0, limits: .default)))
            } == .unexpectedMessage)
            #expect(try await errorCode(hub) { connection in
                _ = try await connection.hello(replica: "r3", token: token)
                try await connection.send(.hello(Hello(replica: "r3", token: token, client: "again")))
            } == .unexpectedMessage)

            let summary = try await replica.sync()
            #expect(summary.pushed == 1)
            #expect(try hub.store.digest() == replica.digest)
        }
    }

    @Test("a connection that never says hello is closed with hello-timeout; a silent session with idle-timeout")
    func timeouts() async throws {
        try await withHub(configure: { $0.helloTimeout = .milliseconds(300) }) { (hub: TestHub) async throws in
            let started = ContinuousClock.now
            #expect(try await errorCode(hub) { _ in } == .helloTimeout)
            #expect(ContinuousClock.now - started < .seconds(10))
        }
        // A hello deadline a loaded machine cannot miss, so that the session opens and falls silent.
        try await withHub(configure: { $0.helloTimeout = .seconds(10); $0.idleTimeout = .milliseconds(600) }) { hub in
            let token = try hub.token()
            #expect(try await errorCode(hub) { connection in
                guard case .welcome = try await connection.hello(replica: "quiet", token: token) else { throw SimulatedCrash() }
            } == .idleTimeout)
        }
    }

    @Test("pings before hello are answered (health checks) but never put off the hello deadline")
    func pingsBeforeHello() async throws {
        // A 5 s deadline: on a loaded machine the TLS handshake alone can take a second or two.
        try await withHub(configure: { $0.helloTimeout = .seconds(5) }) { hub in
            let started = ContinuousClock.now
            try await RawHubConnection.with(hub) { connection in
                var answered = 0
                var code: WireError.Code?
                pinging: for nonce in 1...100 {
                    guard (try? await connection.send(.ping(Ping(nonce: UInt64(nonce))))) != nil else { break }
                    switch try await connection.receive() {
                    case .pong(let pong):
                        #expect(pong.nonce == UInt64(nonce))
                        answered += 1
                    case .error(let error):
                        code = error.code
                        break pinging
                    default:
                        break pinging
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                while code == nil, let message = try await connection.receive() {
                    if case .error(let error) = message { code = error.code }
                }
                #expect(code == .helloTimeout)
                // Pings every 100 ms for 10 s would keep an idle session open; the 5 s hello
                // deadline closes it first (however slow this machine is, 100 pings take longer).
                #expect(answered >= 1 && answered < 100)
            }
            #expect(ContinuousClock.now - started < .seconds(60))
        }
    }

    @Test("graceful shutdown answers an idle session with shutting-down")
    func shutdown() async throws {
        let hub = try await TestHub.start()
        let token = try hub.token()
        try await RawHubConnection.with(hub) { connection in
            guard case .welcome = try await connection.hello(replica: "idle", token: token) else { throw SimulatedCrash() }
            let stopping = Task { await hub.stop() }
            guard case .error(let error) = try await connection.receive() else {
                Issue.record("no error on shutdown")
                return
            }
            #expect(error.code == .shuttingDown)
            await stopping.value
        }
    }
}
