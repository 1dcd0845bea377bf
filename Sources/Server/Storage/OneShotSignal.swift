import Synchronization

/// A signal that fires once: ``wait()`` returns as soon as ``fire()`` has been called, before
/// or after. The group commit uses it to learn that a group holds the sequence lock.
final class OneShotSignal: Sendable {
    private struct State: ~Copyable {
        var fired = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Fires the signal (once; later calls do nothing) and resumes everyone waiting.
    func fire() {
        let waiting: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Returns once the signal has fired.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let firedAlready = state.withLock { state in
                if state.fired { return true }
                state.waiting.append(continuation)
                return false
            }
            if firedAlready { continuation.resume() }
        }
    }
}
