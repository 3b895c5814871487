import NIOCore
import Testing
@testable import MufakatDashboard

/// Issue 28: parallel wrong sign-ins skipped the one-second penalty.
@Suite("Dashboard sign-in gate")
struct SignInGateTests {
    @Test("attempts from one address take one slot a second, however many arrive at once; other addresses are not held up")
    func slots() {
        let gate = SignInGate(spacing: .seconds(1), maximumWait: .seconds(3))
        let now = ContinuousClock.now
        let waits = (0..<4).map { _ in gate.reserve("203.0.113.7", now: now) }
        #expect(waits == [.zero, .seconds(1), .seconds(2), .seconds(3)])
        #expect(gate.reserve("203.0.113.7", now: now) == nil, "a queue past the longest wait is refused")
        #expect(gate.reserve("198.51.100.1", now: now) == .zero)
        // Once the slots have passed, the address starts afresh.
        #expect(gate.reserve("203.0.113.7", now: now + .seconds(10)) == .zero)
    }

    @Test("the table of addresses stays bounded")
    func bounded() {
        let gate = SignInGate(spacing: .seconds(1), maximumWait: .seconds(3), capacity: 8)
        let now = ContinuousClock.now
        for index in 0..<100 { _ = gate.reserve("10.0.0.\(index)", now: now + .milliseconds(index)) }
        #expect(gate.count <= 8)
        #expect(gate.reserve("10.0.0.99", now: now + .milliseconds(100)) == .milliseconds(999), "the newest address is still remembered")
    }

    @Test("attempts are counted per address block: an IPv4 /24, an IPv6 /64, all of loopback")
    func blocks() throws {
        func block(_ ip: String) throws -> String { DashboardContext.block(of: try SocketAddress(ipAddress: ip, port: 1)) }
        #expect(try block("203.0.113.7") == "203.0.113.0/24")
        #expect(try block("203.0.113.200") == block("203.0.113.7"))
        #expect(try block("203.0.114.7") != block("203.0.113.7"))
        #expect(try block("127.0.0.1") == "loopback" && block("127.0.0.31") == "loopback" && block("::1") == "loopback")
        #expect(try block("2001:db8:1:2:aaaa::1") == block("2001:db8:1:2:bbbb::9"))
        #expect(try block("2001:db8:1:3::1") != block("2001:db8:1:2::1"))
        #expect(try block("::ffff:203.0.113.9") == block("203.0.113.7"))
    }
}
