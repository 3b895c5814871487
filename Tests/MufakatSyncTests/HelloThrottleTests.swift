import MufakatHub
import Testing

@Suite("Hello throttle: failed hellos slow the next ones from the same address")
struct HelloThrottleTests {
    let start = ContinuousClock.now

    @Test("the wait doubles with each failure up to the cap")
    func delaysGrow() {
        let throttle = HelloThrottle()
        #expect((0...8).map { throttle.delay(afterFailures: $0) } == [
            .zero, .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
            .milliseconds(1_600), .milliseconds(3_200), .seconds(5), .seconds(5),
        ])
        #expect(throttle.delay(afterFailures: 10_000) == .seconds(5))
    }

    @Test("an address without failures is not delayed; after failures, its next hello waits longer each time")
    func sequentialGuesses() {
        var throttle = HelloThrottle()
        #expect(throttle.admit("203.0.113.7", now: start) == .zero)
        var now = start
        var waits: [Duration] = []
        for _ in 1...5 {
            throttle.failed("203.0.113.7", now: now)
            let wait = throttle.admit("203.0.113.7", now: now)!
            waits.append(wait)
            now += wait
        }
        #expect(waits == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1_600)])
        // Another address is not affected.
        #expect(throttle.admit("198.51.100.1", now: now) == .zero)
    }

    @Test("parallel hellos from one address are spaced, and refused once the queue is longer than the cap")
    func parallelGuesses() {
        var throttle = HelloThrottle()
        throttle.failed("203.0.113.7", now: start)
        var waits: [Duration] = []
        while let wait = throttle.admit("203.0.113.7", now: start) { waits.append(wait) }
        #expect(waits == (1...50).map { .milliseconds(100 * $0) })
        #expect(throttle.admit("203.0.113.7", now: start) == nil)
    }

    @Test("an address quiet for the forget period starts afresh")
    func forgetting() {
        var throttle = HelloThrottle(policy: .init(forgetAfter: .seconds(60)))
        for step in 0..<6 { throttle.failed("203.0.113.7", now: start + .milliseconds(step)) }
        // Six failures: the next check is 3.2 s after the last one.
        #expect(throttle.admit("203.0.113.7", now: start + .seconds(1)) == .milliseconds(2_205))
        #expect(throttle.count == 1)
        #expect(throttle.admit("203.0.113.7", now: start + .seconds(61)) == .zero)
        #expect(throttle.count == 0)
        throttle.failed("203.0.113.7", now: start + .seconds(62))
        #expect(throttle.admit("203.0.113.7", now: start + .seconds(62)) == .milliseconds(100))
    }

    @Test("the table holds at most its capacity, dropping the quietest address")
    func capacity() {
        var throttle = HelloThrottle(policy: .init(capacity: 3))
        for index in 0..<10 { throttle.failed("10.0.0.\(index)", now: start + .seconds(index)) }
        #expect(throttle.count == 3)
        #expect(throttle.admit("10.0.0.0", now: start + .seconds(10)) == .zero)
        #expect(throttle.admit("10.0.0.9", now: start + .seconds(9)) == .milliseconds(100))
    }
}
