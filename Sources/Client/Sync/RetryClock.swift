/// The time source and the waiting of ``Retrier``: the system's monotonic clock in commands, a
/// fake one in tests (so backoff is tested without waiting).
public protocol RetryClock: Sendable {
    /// Seconds on a monotonic clock (any origin).
    func now() -> Double
    /// Waits `seconds` (returns early if the task is cancelled).
    func sleep(seconds: Double) async
}

/// The real clock: `CLOCK_MONOTONIC` and `Task.sleep`.
public struct SystemRetryClock: RetryClock {
    public init() {}

    public func now() -> Double {
        Double(POSIX.monotonicNanoseconds()) / 1_000_000_000
    }

    public func sleep(seconds: Double) async {
        guard seconds > 0 else { return }
        try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
    }
}
