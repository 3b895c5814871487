import Synchronization

/// Slows down token guessing: after a `hello` with a wrong token, further hellos from the
/// same address wait before their token is checked — 100 ms after the first failure,
/// twice as long after each further one, at most 5 s — and are spaced that far apart even
/// when they arrive on parallel connections. An address with no failure for 5 minutes is
/// forgotten; so is the quietest one when the table is full, so it cannot grow without limit.
///
/// No I/O and no clock of its own: every call takes `now`, so tests drive time by hand.
///
/// ```swift
/// guard let wait = throttle.admit("203.0.113.7", now: .now) else { /* refuse: too many queued */ }
/// try await Task.sleep(for: wait)
/// if tokenIsWrong { throttle.failed("203.0.113.7", now: .now) }
/// ```
public struct HelloThrottle: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public struct Policy: Sendable, Hashable {
        /// The wait after one failed hello; it doubles with each further failure.
        public var firstDelay: Duration
        /// The longest wait between two checks of the same address; a hello that would have
        /// to queue longer than this is refused without checking.
        public var maximumDelay: Duration
        /// An address with no failed hello for this long starts afresh.
        public var forgetAfter: Duration
        /// Most addresses remembered.
        public var capacity: Int

        public init(
            firstDelay: Duration = .milliseconds(100), maximumDelay: Duration = .seconds(5),
            forgetAfter: Duration = .seconds(300), capacity: Int = 4_096
        ) {
            self.firstDelay = firstDelay
            self.maximumDelay = maximumDelay
            self.forgetAfter = forgetAfter
            self.capacity = capacity
        }
    }

    struct Entry: Hashable {
        var failures: Int
        var lastFailure: Instant
        /// The earliest time the next hello from the address may be checked.
        var nextCheck: Instant
    }

    public let policy: Policy
    private(set) var entries: [String: Entry] = [:]

    public init(policy: Policy = Policy()) {
        self.policy = policy
    }

    /// Addresses currently remembered.
    public var count: Int { entries.count }

    /// The wait after `failures` failed hellos: `firstDelay · 2^(failures−1)`, at most `maximumDelay`.
    public func delay(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        var delay = policy.firstDelay
        for _ in 1..<min(failures, 63) where delay < policy.maximumDelay {
            delay *= 2
        }
        return min(delay, policy.maximumDelay)
    }

    /// A hello from `address` arrived: how long it must wait before its token is checked,
    /// or `nil` when so many are queued that it should be refused at once.
    ///
    /// The wait is reserved: the next hello from the address waits a further delay, so
    /// parallel connections cannot check tokens faster than sequential ones.
    public mutating func admit(_ address: String, now: Instant) -> Duration? {
        guard var entry = remembered(address, now: now) else { return .zero }
        let start = max(now, entry.nextCheck)
        guard start - now <= policy.maximumDelay else { return nil }
        entry.nextCheck = start + delay(afterFailures: entry.failures)
        entries[address] = entry
        return start - now
    }

    /// The hello from `address` had a wrong token.
    public mutating func failed(_ address: String, now: Instant) {
        var entry = remembered(address, now: now) ?? Entry(failures: 0, lastFailure: now, nextCheck: now)
        entry.failures += 1
        entry.lastFailure = now
        entry.nextCheck = max(entry.nextCheck, now + delay(afterFailures: entry.failures))
        if entries[address] == nil { makeRoom(now: now) }
        entries[address] = entry
    }

    /// The entry for `address`, dropping it if it has been quiet long enough.
    private mutating func remembered(_ address: String, now: Instant) -> Entry? {
        guard let entry = entries[address] else { return nil }
        guard isForgotten(entry, now: now) else { return entry }
        entries[address] = nil
        return nil
    }

    private func isForgotten(_ entry: Entry, now: Instant) -> Bool {
        now - entry.lastFailure >= policy.forgetAfter && now >= entry.nextCheck
    }

    /// Keeps the table under its capacity: forgets quiet addresses, then the quietest.
    private mutating func makeRoom(now: Instant) {
        guard entries.count >= policy.capacity else { return }
        entries = entries.filter { !isForgotten($0.value, now: now) }
        while entries.count >= max(policy.capacity, 1),
            let quietest = entries.min(by: { $0.value.lastFailure < $1.value.lastFailure })
        {
            entries[quietest.key] = nil
        }
    }
}

extension HelloThrottle {
    /// One throttle for all of a hub's sessions, behind a lock, on the continuous clock.
    public final class Shared: Sendable {
        private let throttle: Mutex<HelloThrottle>

        public init(policy: Policy = Policy()) {
            throttle = Mutex(HelloThrottle(policy: policy))
        }

        public func admit(_ address: String) -> Duration? {
            throttle.withLock { $0.admit(address, now: .now) }
        }

        public func failed(_ address: String) {
            throttle.withLock { $0.failed(address, now: .now) }
        }
    }
}
