import MufakatWire

/// Why a sync stopped. Local data is untouched by a failed sync beyond the batches it
/// stored completely; running `sync` again carries on.
public struct SyncError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The hub could not be reached (address, network, not running, shutting down).
        case unreachable
        /// The hub refused the token or the replica.
        case refused
        /// The hub or the client broke the protocol.
        case protocolError
        /// The connection broke or timed out mid-sync.
        case connectionLost
        /// The hub's TLS identity was refused (another key, an expired certificate, a
        /// certificate for another host), or this replica has no key to check it with.
        /// Nothing was sent.
        case untrustedHub
    }

    public var kind: Kind
    public var message: String
    /// The hub's error code when the hub sent one.
    public var code: String?

    public init(_ kind: Kind, _ message: String, code: String? = nil) {
        self.kind = kind
        self.message = message
        self.code = code
    }

    public var description: String { message }

    /// Maps an `error` frame from the hub.
    static func fromHub(_ error: ErrorMessage, hub: String = "HOST:PORT") -> SyncError {
        switch error.code {
        case .tlsRequired:
            return SyncError(.untrustedHub, "the hub at \(hub) requires TLS, and this replica is set up for plain TCP (--insecure); nothing was sent. Ask the operator for the hub's key and run 'mufakat hub set \(hub) --hub-key SHA256:…'", code: error.code.rawValue)
        case .unauthorized: return SyncError(.refused, "the hub refused this replica: \(error.message)", code: error.code.rawValue)
        case .shuttingDown: return SyncError(.unreachable, error.message, code: error.code.rawValue)
        case .diverged: return SyncError(.connectionLost, "another copy of this replica synced meanwhile (\(error.message)); sync again", code: error.code.rawValue)
        case .versionUnsupported:
            return SyncError(.refused, "\(hub) refused this client's protocol version: \(error.message)", code: error.code.rawValue)
        case .tooManyConnections: return SyncError(.unreachable, "the hub is busy: \(error.message)", code: error.code.rawValue)
        case .idleTimeout, .helloTimeout: return SyncError(.connectionLost, "the hub closed the connection: \(error.message)", code: error.code.rawValue)
        default: return SyncError(.protocolError, "the hub reported \(error.code): \(error.message)", code: error.code.rawValue)
        }
    }
}
