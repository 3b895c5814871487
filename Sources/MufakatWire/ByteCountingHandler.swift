import NIOCore
import Synchronization

/// Bytes a connection received and sent, readable from any task.
public final class ByteCounts: Sendable {
    private let receivedBytes = Atomic<Int>(0)
    private let sentBytes = Atomic<Int>(0)

    public init() {}

    public var received: Int { receivedBytes.load(ordering: .relaxed) }
    public var sent: Int { sentBytes.load(ordering: .relaxed) }

    func add(received count: Int) { receivedBytes.add(count, ordering: .relaxed) }
    func add(sent count: Int) { sentBytes.add(count, ordering: .relaxed) }
}

/// Counts the raw bytes crossing a channel, compressed or not: the figure a user pays for
/// on a metered connection. Put it first in the pipeline.
public final class ByteCountingHandler: ChannelDuplexHandler, Sendable {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public let counts: ByteCounts

    public init(counts: ByteCounts) {
        self.counts = counts
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counts.add(received: unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        counts.add(sent: unwrapOutboundIn(data).readableBytes)
        context.write(data, promise: promise)
    }
}
