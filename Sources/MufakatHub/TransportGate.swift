import Logging
import MufakatWire
import NIOCore

/// Looks at a connection's first byte, so that a client speaking the other transport gets
/// a clear answer instead of a hang or a stream of garbage.
///
/// A TLS connection starts with a handshake record, byte 0x16; a Mufakat frame starts with
/// its 4-byte length, whose first byte is 0 for every frame a hub accepts (PROTOCOL.md §12).
/// - On a TLS hub, a plain client is answered with one plain `error` frame, `tls-required`,
///   and the connection is closed: the client shows the message (a 0.3 client does too).
/// - On a plain hub (`--insecure`), a TLS client hello is logged and answered with a fatal
///   TLS alert (protocol_version) before closing; the client reports a hub that does not
///   speak TLS.
///
/// Once the first byte fits, the gate removes itself.
final class TransportGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// The byte every TLS connection starts with: a handshake record.
    static let tlsHandshakeRecord: UInt8 = 0x16

    private let expectsTLS: Bool
    private let logger: Logger
    private var refused = false

    init(expectsTLS: Bool, logger: Logger) {
        self.expectsTLS = expectsTLS
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let buffer = unwrapInboundIn(data)
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        let speaksTLS = first == Self.tlsHandshakeRecord
        if speaksTLS == expectsTLS {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        refused = true
        let peer = context.channel.remoteAddress?.ipAddress ?? "unknown"
        let channel = context.channel
        if expectsTLS {
            logger.notice("a client spoke plain TCP to this TLS hub: answered tls-required and closed", metadata: ["peer": "\(peer)"])
            var frame = ByteBuffer()
            let refusal = WireError(
                .tlsRequired,
                "this hub accepts TLS connections only: set the replica up with the hub's key ('mufakat hub set HOST:PORT --hub-key SHA256:…', the key 'mufakat-hub status' shows), or use a client of version 0.4 or later")
            if let wire = try? Message.error(ErrorMessage(refusal)).frame(allowCompression: false) {
                frame.writeWireFrame(wire)
            }
            // Written below the TLS handler, so in plain.
            context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            logger.notice("a client started TLS on this hub, which serves plain TCP (--insecure): refused", metadata: ["peer": "\(peer)"])
            // A fatal TLS alert, protocol_version, so the client's TLS library reports a
            // failed handshake at once rather than a cut connection.
            var alert = ByteBuffer()
            alert.writeBytes([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46])
            context.writeAndFlush(wrapOutboundOut(alert)).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

extension TransportGate {
    typealias OutboundOut = ByteBuffer
}
