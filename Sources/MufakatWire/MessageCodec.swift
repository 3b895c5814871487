import MufakatCore
import NIOCore

/// Turns bytes into ``Message``s: a `ByteToMessageDecoder` for a NIO pipeline.
///
/// A partial frame consumes nothing and waits for more bytes. Any violation throws a
/// ``WireError``; the session answers it with an `error` frame and closes.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MessageDecoder(limits: limits)))
/// try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MessageEncoder()))
/// ```
public struct MessageDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Message

    public var limits: WireLimits
    /// The form of record lines, from the session's protocol version.
    public var form: RecordForm

    public init(limits: WireLimits = .default, form: RecordForm = WireProtocol.recordForm) {
        self.limits = limits
        self.form = form
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try buffer.readWireFrame(limits: limits) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(try Message(frame: frame, limits: limits, form: form)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Turns ``Message``s into frames: a `MessageToByteEncoder` for a NIO pipeline.
public struct MessageEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Message

    /// Whether bodies of 512 bytes and more may be compressed.
    public var allowCompression: Bool
    /// The form of record lines, from the session's protocol version.
    public var form: RecordForm

    public init(allowCompression: Bool = true, form: RecordForm = WireProtocol.recordForm) {
        self.allowCompression = allowCompression
        self.form = form
    }

    public func encode(data: Message, out: inout ByteBuffer) throws {
        out.writeWireFrame(try data.frame(allowCompression: allowCompression, form: form))
    }
}
