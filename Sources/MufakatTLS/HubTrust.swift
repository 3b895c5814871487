import Foundation
import MufakatCore
import NIOCore
import NIOSSL
import NIOTLS
import X509

/// How a replica reaches its hub: over TLS, trusting one pinned key (and a next key the
/// hub announced), or in plain TCP only when the replica was set up with `--insecure`.
public enum HubTransport: Sendable, Hashable {
    /// TLS; the hub must present `key`, or `next` once it has switched to it.
    case pinned(key: HubKey, next: HubKey? = nil)
    /// TLS, accepting any key: only to show what a hub presents (`mufakat ping`), never
    /// to send a token.
    case probe
    /// Plain TCP (`--insecure`).
    case plain
}

/// Why a replica refused the hub's TLS identity. Kept by ``HubKeyCheck`` because a
/// refused handshake reaches the connection only as BoringSSL's "certificate verify failed".
public enum HubIdentityRefusal: Error, Sendable, Hashable {
    /// The hub presented another key than the pinned one (and not the announced next key).
    case otherKey(presented: HubKey, pinned: HubKey)
    case expired(on: Date)
    case notYetValid(until: Date)
    /// The certificate names hosts, none of them the one dialled.
    case wrongHost(dialled: String, names: [String])
    case unreadable(String)
}

/// Checks the certificate a hub presents during the handshake, before any token is sent,
/// and remembers what it saw and why it refused.
public final class HubKeyCheck: @unchecked Sendable {
    private let lock = NSLock()
    private var _presented: HubKey?
    private var _refusal: HubIdentityRefusal?
    let transport: HubTransport
    let host: String
    let now: @Sendable () -> Date

    public init(transport: HubTransport, host: String, now: @escaping @Sendable () -> Date = Date.init) {
        self.transport = transport
        self.host = host
        self.now = now
    }

    /// The key the hub presented, once the handshake got that far.
    public var presented: HubKey? { lock.withLock { _presented } }
    /// Why the hub's identity was refused, if it was.
    public var refusal: HubIdentityRefusal? { lock.withLock { _refusal } }

    func verify(_ chain: [NIOSSLCertificate]) -> NIOSSLVerificationResult {
        let outcome = evaluate(chain)
        lock.withLock {
            _presented = outcome.presented
            _refusal = outcome.refusal
        }
        return outcome.refusal == nil ? .certificateVerified : .failed
    }

    /// The pin first (a stranger's certificate says nothing worth reporting), then the
    /// dates, then the names of a certificate that has any.
    public func evaluate(_ chain: [NIOSSLCertificate]) -> (presented: HubKey?, refusal: HubIdentityRefusal?) {
        guard let leaf = chain.first else { return (nil, .unreadable("the hub presented no certificate")) }
        let certificate: Certificate
        let presented: HubKey
        do {
            certificate = try Certificate(derEncoded: try leaf.toDERBytes())
            presented = try HubIdentity.key(of: leaf)
        } catch {
            return (nil, .unreadable("the hub's certificate cannot be read (\(error))"))
        }
        switch transport {
        case .pinned(let key, let next):
            guard presented == key || presented == next else { return (presented, .otherKey(presented: presented, pinned: key)) }
        case .probe:
            return (presented, nil)
        case .plain:
            return (presented, .unreadable("a plain connection got a certificate"))
        }
        let now = self.now()
        if now > certificate.notValidAfter { return (presented, .expired(on: certificate.notValidAfter)) }
        if now < certificate.notValidBefore { return (presented, .notYetValid(until: certificate.notValidBefore)) }
        let names = HubIdentity.names(of: certificate)
        if !names.isEmpty, !Self.matches(host: host, names: names) {
            return (presented, .wrongHost(dialled: host, names: names))
        }
        return (presented, nil)
    }

    /// RFC 6125 matching, simplified: case-insensitive DNS names, a `*.` wildcard for one
    /// left-most label, IP addresses compared as addresses.
    public static func matches(host: String, names: [String]) -> Bool {
        if let ip = IPText.canonical(host) { return names.contains(ip) }
        let dialled = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        return names.contains { name in
            let name = name.lowercased()
            if name == dialled { return true }
            guard name.hasPrefix("*."), let dot = dialled.firstIndex(of: ".") else { return false }
            return dialled[dot...] == name.dropFirst()
        }
    }
}

/// TLS for the replica's side of a connection.
public enum ClientTLS {
    /// One context for every connection: the pin check replaces certificate-authority
    /// validation, so no system trust store is read.
    static let context: Result<NIOSSLContext, any Error> = Result {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([])
        return try NIOSSLContext(configuration: configuration)
    }

    /// Adds TLS to a new connection to `host` — the client handler checking the hub's key
    /// with `check`, then a ``HandshakeWaiter`` — unless `transport` is plain. The future
    /// completes when the handshake has (at once for plain TCP): write nothing before it.
    public static func addHandlers(
        to channel: any Channel, host: String, transport: HubTransport, check: HubKeyCheck
    ) throws -> EventLoopFuture<Void> {
        let handshake = channel.eventLoop.makePromise(of: Void.self)
        if transport == .plain {
            handshake.succeed(())
        } else {
            try channel.pipeline.syncOperations.addHandler(handler(host: host, check: check))
            try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(promise: handshake))
        }
        return handshake.futureResult
    }

    /// The handler for a connection to `host`, checking the hub's key with `check`.
    static func handler(host: String, check: HubKeyCheck) throws -> NIOSSLClientHandler {
        let context = try Self.context.get()
        // SNI carries names only; an IP address is dialled without it.
        let serverName = IPText.canonical(host) == nil ? host : nil
        return try NIOSSLClientHandler(context: context, serverHostname: serverName) { chain, promise in
            promise.succeed(check.verify(chain))
        }
    }
}

/// Completes when the TLS handshake has, so that the replica sends its `hello` (and its
/// token) only to a hub whose key it checked; fails when the handshake does, or when the
/// connection closes first (a hub that does not speak TLS).
public final class HandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    public typealias InboundIn = NIOAny

    /// The connection closed before the handshake finished.
    public struct ClosedDuringHandshake: Error {}

    private let promise: EventLoopPromise<Void>

    public init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            promise.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ClosedDuringHandshake())
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(ClosedDuringHandshake())
    }
}
