import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// Spaces out sign-in attempts from one client address: each attempt takes the address's
/// next free slot, ``spacing`` after the one before, and waits for it — so parallel requests
/// try tokens no faster than one after another. An address whose queue is longer than
/// ``maximumWait`` is refused at once. A wrong token also answers after a second, as before;
/// the gate is what makes that second count per address rather than per request.
///
/// No clock of its own: every call takes `now`, so tests drive time by hand.
public final class SignInGate: Sendable {
    public let spacing: Duration
    public let maximumWait: Duration
    public let capacity: Int
    private let slots = Mutex<[String: ContinuousClock.Instant]>([:])

    public init(spacing: Duration = .seconds(1), maximumWait: Duration = .seconds(30), capacity: Int = 4_096) {
        self.spacing = spacing
        self.maximumWait = maximumWait
        self.capacity = capacity
    }

    /// Addresses remembered.
    public var count: Int { slots.withLock { $0.count } }

    /// Reserves the next slot of `address`: how long to wait before checking the token, or
    /// `nil` when the address has queued more than ``maximumWait`` already.
    public func reserve(_ address: String, now: ContinuousClock.Instant) -> Duration? {
        slots.withLock { slots in
            let start = max(now, slots[address] ?? now)
            guard start - now <= maximumWait else { return nil }
            if slots[address] == nil, slots.count >= capacity {
                // Keep the table bounded: addresses whose slots have passed are forgotten.
                slots = slots.filter { $0.value > now }
                if slots.count >= capacity, let oldest = slots.min(by: { $0.value < $1.value }) { slots[oldest.key] = nil }
            }
            slots[address] = start + spacing
            return start - now
        }
    }
}

/// The dashboard's request context: Hummingbird's, plus the client's address for the
/// sign-in gate.
public struct DashboardContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// What sign-ins are counted against: not one IP address but the block a client can
    /// easily take many addresses from — an IPv4 /24, an IPv6 /64 (an IPv4 address mapped
    /// into IPv6 as IPv4), and the whole loopback range as one.
    var clientAddress: String { Self.block(of: remoteAddress) }

    static func block(of address: SocketAddress?) -> String {
        switch address {
        case .v4(let v4)?:
            let bytes = withUnsafeBytes(of: v4.address.sin_addr.s_addr) { Array($0) }
            return bytes[0] == 127 ? "loopback" : "\(bytes[0]).\(bytes[1]).\(bytes[2]).0/24"
        case .v6(let v6)?:
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
                return bytes[12] == 127 ? "loopback" : "\(bytes[12]).\(bytes[13]).\(bytes[14]).0/24"
            }
            if bytes[0..<15].allSatisfy({ $0 == 0 }), bytes[15] == 1 { return "loopback" }
            return bytes[0..<8].map { String(format: "%02x", $0) }.joined() + "/64"
        default:
            return "unknown"
        }
    }
}
