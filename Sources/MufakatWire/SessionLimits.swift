import MufakatCore
import NIOCore
import Synchronization

/// The limits one connection is held to: ``WireLimits/beforeHello`` until its token has
/// been checked, the full limits after.
///
/// Shared by the connection's ``WireFrameDecoder`` (on the event loop) and the session
/// task that parses the frames, so the switch is atomic. The session calls
/// ``authenticated()`` before it sends `welcome`; a client sends nothing but `hello` before
/// `welcome` arrives, so no frame of the session can fall between the two limits.
public final class SessionLimits: Sendable {
    public let beforeHello: WireLimits
    public let afterHello: WireLimits
    private let isAuthenticatedFlag = Atomic<Bool>(false)

    public init(beforeHello: WireLimits = .beforeHello, afterHello: WireLimits) {
        self.beforeHello = beforeHello
        self.afterHello = afterHello
    }

    /// Whether the peer's token was accepted.
    public var isAuthenticated: Bool { isAuthenticatedFlag.load(ordering: .acquiring) }

    /// The limits that apply to the next frame.
    public var current: WireLimits { isAuthenticated ? afterHello : beforeHello }

    /// The token was accepted: frames up to the full limits are taken from now on.
    public func authenticated() {
        isAuthenticatedFlag.store(true, ordering: .releasing)
    }

    /// Inflates and parses `frame` under the current limits, its record lines in `form`.
    ///
    /// Before hello, a size error says which limit applied and that more is accepted after
    /// `welcome`, so a client that sends too early learns what to change.
    public func message(from frame: WireFrame, form: RecordForm = WireProtocol.recordForm) throws(WireError) -> Message {
        let authenticated = isAuthenticated
        do {
            return try Message(frame: frame, limits: authenticated ? afterHello : beforeHello, form: form)
        } catch where !authenticated && [.inflateLimit, .lineTooLong, .tooManyRecords].contains(error.code) {
            throw WireError(error.code, "\(error.message) before hello; \(afterWelcome)")
        }
    }

    /// The frame-size error for a frame announced before hello, or `nil` if it fits.
    func checkBeforeHello(length: UInt32) -> WireError? {
        guard !isAuthenticated, Int(length) > beforeHello.frameBytes else { return nil }
        return WireError(
            .frameTooLarge,
            "frame of \(length) bytes is over the limit of \(beforeHello.frameBytes) bytes before hello; \(afterWelcome)")
    }

    private var afterWelcome: String {
        "a session starts with a small hello, and frames of up to \(afterHello.frameBytes) bytes (inflating to \(afterHello.inflatedBytes)) are accepted after welcome"
    }
}

/// Cuts bytes into ``WireFrame``s on the event loop, checking only what the frame header
/// says (length, flags) under the connection's ``SessionLimits``.
///
/// Inflating and parsing are left to whoever reads the frames (``SessionLimits/message(from:)``),
/// so a large compressed push costs a session task its time, not the event loop that serves
/// every other connection on it.
public struct WireFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = WireFrame

    public let limits: SessionLimits

    public init(limits: SessionLimits) {
        self.limits = limits
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self),
            let error = limits.checkBeforeHello(length: length)
        {
            throw error
        }
        guard let frame = try buffer.readWireFrame(limits: limits.current) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
