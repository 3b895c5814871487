import Testing
@testable import MufakatHub

@Suite("The hub's gate for large pushes")
struct WorkGateTests {
    actor Tally {
        var now = 0, most = 0, done = 0
        func enter() { now += 1; most = max(most, now) }
        func leave() { now -= 1; done += 1 }
    }

    @Test("at most its permits hold one at once; every waiter gets its turn")
    func bounded() async {
        let gate = WorkGate(permits: 2)
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    await gate.acquire()
                    await tally.enter()
                    try? await Task.sleep(for: .milliseconds(5))
                    await tally.leave()
                    await gate.release()
                }
            }
        }
        #expect(await tally.most == 2)
        #expect(await tally.now == 0)
        #expect(await tally.done == 12)
    }
}
