import MufakatCore
import MufakatTLS
import MufakatWire
import NIOCore
import NIOPosix

/// A bare TCP connection to a hub that sends exactly the bytes or messages a test wants
/// — including malformed ones — and decodes what comes back.
///
/// ```swift
/// try await RawHubConnection.with(port: hub.port) { connection in
///     try await connection.send(bytes: garbage)
///     let answer = try await connection.receive()      // .error(bad-flags)
/// }
/// ```
public final class RawHubConnection {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var buffer = ByteBuffer()
    /// The form of record lines sent and received: the version of the last ``hello(replica:token:version:)``'s.
    public var form = WireProtocol.recordForm

    private init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound
        self.outbound = outbound
    }

    /// Connects to `hub` (over TLS pinned to its key when it has one), runs `body`, and
    /// closes the connection.
    public static func with<T>(_ hub: TestHub, _ body: (RawHubConnection) async throws -> T) async throws -> T {
        try await with(port: hub.port, key: hub.key, body)
    }

    /// Connects to 127.0.0.1:`port` — over TLS checking `key`, or plain when it is nil —
    /// runs `body`, and closes the connection.
    public static func with<T>(port: Int, key: HubKey? = nil, _ body: (RawHubConnection) async throws -> T) async throws -> T {
        let (channel, handshake) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let transport: HubTransport = key.map { .pinned(key: $0) } ?? .plain
                    let handshake = try ClientTLS.addHandlers(
                        to: channel, host: "127.0.0.1", transport: transport, check: HubKeyCheck(transport: transport, host: "127.0.0.1"))
                    return (try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel), handshake)
                }
            }
        do {
            try await handshake.get()
        } catch {
            try? await channel.executeThenClose { _, _ in }
            throw error
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(RawHubConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound))
        }
    }

    public func send(_ message: Message) async throws {
        var bytes = ByteBuffer()
        bytes.writeWireFrame(try message.frame(form: form))
        try await outbound.write(bytes)
    }

    public func send(bytes: ByteBuffer) async throws {
        try await outbound.write(bytes)
    }

    /// The next message, or `nil` when the hub closed the connection.
    public func receive() async throws -> Message? {
        try await receiveFrame().map { try Message(frame: $0, form: form) }
    }

    /// The next frame as it came, or `nil` when the hub closed the connection.
    public func receiveFrame() async throws -> WireFrame? {
        while true {
            if let frame = try buffer.readWireFrame(limits: .default) { return frame }
            guard var chunk = try await inbound.next() else { return nil }
            buffer.writeBuffer(&chunk)
        }
    }

    /// Every byte the hub sends until it closes the connection.
    public func receiveUntilClosed() async throws -> [UInt8] {
        var bytes = Array(buffer: buffer)
        buffer.clear()
        while let chunk = try await inbound.next() { bytes += Array(buffer: chunk) }
        return bytes
    }

    /// Sends `hello` and returns the hub's answer.
    public func hello(replica: String, token: String, version: Int = WireProtocol.version) async throws -> Message? {
        form = RecordForm(protocolVersion: version)
        try await send(.hello(Hello(version: version, replica: replica, token: token, client: "raw test client")))
        return try await receive()
    }
}
