import Logging
import MufakatWire
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts a hub's open connections against ``HubConfiguration/maxConnections``.
///
/// ``admit()`` and ``release()`` may be called from any event loop.
final class ConnectionLimiter: Sendable {
    enum Admission: Equatable {
        /// The connection may go on; `refusedBefore` connections were refused since the
        /// last admitted one (worth a log line when not 0).
        case admitted(refusedBefore: Int)
        /// The limit is reached; `first` is true for the first refusal since a connection
        /// was last admitted (log once per episode, not per connection).
        case refused(first: Bool)
    }

    let maximum: Int
    private let state = Mutex<(open: Int, refused: Int)>((0, 0))

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Connections admitted and not yet released.
    var open: Int { state.withLock { $0.open } }

    func admit() -> Admission {
        state.withLock { state in
            guard state.open < maximum else {
                state.refused += 1
                return .refused(first: state.refused == 1)
            }
            state.open += 1
            defer { state.refused = 0 }
            return .admitted(refusedBefore: state.refused)
        }
    }

    /// An admitted connection closed.
    func release() {
        state.withLock { $0.open -= 1 }
    }
}

/// Answers a connection beyond the limit with one `error` frame and closes it: the
/// whole pipeline of a refused connection, so it costs no decoder and no session.
final class RefuseConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let frame: ByteBuffer

    init(_ error: WireError) {
        var frame = ByteBuffer()
        // An error message always encodes; fall back to closing without a word if it did not.
        if let wire = try? Message.error(ErrorMessage(error)).frame(allowCompression: false) {
            frame.writeWireFrame(wire)
        }
        self.frame = frame
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
        context.fireChannelActive()
    }

    /// Whatever the peer sends is dropped.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func refuse(_ context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(NIOAny(frame)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Stops accepting for a moment when the process is out of file descriptors (or socket
/// memory), instead of retrying `accept` in a busy loop, and says so once per episode.
///
/// Why NIO's own `AcceptBackoffHandler` (which the async `ServerBootstrap.bind` installs)
/// is not enough: when `accept` fails, the listening socket stays registered for reading
/// (its read is still pending) and the waiting connection keeps it readable, so the event
/// loop calls `accept` again at once; the backoff only delays the *next* `read()`, which is
/// never issued. Switching `autoRead` off unregisters the socket; switching it back on after
/// ``pause`` tries `accept` once more. Put it first in the server channel's pipeline.
final class AcceptPauseHandler: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    let logger: Logger
    let pause: TimeAmount
    /// Accepts that failed since the last one that succeeded.
    private var failedAccepts = 0
    private var resume: Scheduled<Void>?

    init(logger: Logger, pause: TimeAmount = .seconds(1)) {
        self.logger = logger
        self.pause = pause
    }

    /// The errors after which accepting again later may work.
    static func isResourceExhaustion(_ error: any Error) -> Bool {
        guard let error = error as? IOError else { return false }
        return [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if Self.isResourceExhaustion(error) {
            if failedAccepts == 0 {
                logger.error("cannot accept connections: \(error); retrying every \(pause) until some close (raise the open-file limit, ulimit -n, or lower --max-connections)")
            }
            failedAccepts += 1
            pauseAccepting(context)
        }
        context.fireErrorCaught(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if failedAccepts > 0 {
            logger.notice("accepting connections again", metadata: ["failedAccepts": "\(failedAccepts)"])
            failedAccepts = 0
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        resume?.cancel()
        resume = nil
        context.fireChannelInactive()
    }

    private func pauseAccepting(_ context: ChannelHandlerContext) {
        guard resume == nil, let options = context.channel.syncOptions else { return }
        try? options.setOption(.autoRead, value: false)
        let channel = context.channel
        resume = context.eventLoop.assumeIsolated().scheduleTask(in: pause) { [self] in
            resume = nil
            try? channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }
}
