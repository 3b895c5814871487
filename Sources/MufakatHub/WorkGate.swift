/// Bounds how many sessions hold a large pushed batch in memory at once.
///
/// A pushed frame inflates to a megabyte or more and decodes to several; a hub storing one
/// push at a time (its writer is one connection) gains nothing from a hundred sessions
/// holding theirs decoded while they wait. A session takes a permit before it inflates a
/// large frame and gives it back once the push is stored; the others keep their frames
/// compressed until then.
actor WorkGate {
    private let permits: Int
    private var inUse = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) {
        self.permits = max(1, permits)
    }

    func acquire() async {
        if inUse < permits {
            inUse += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            inUse -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }

    /// Frames larger than this (as sent, compressed or not) wait for a permit.
    static let largeFrameBytes = 64 << 10
}
