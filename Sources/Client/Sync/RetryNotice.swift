/// One failed attempt that will be retried, for progress on a terminal
/// (`cannot reach …: connection refused; retrying in 0.5 s`).
public struct RetryNotice: Sendable, Equatable {
    /// The attempt that failed (1 for the first).
    public var attempt: Int
    /// Why it failed.
    public var failure: TransientFailure
    /// Seconds until the next attempt.
    public var delay: Double
    /// Seconds left before `cx` gives up (at most the policy's budget).
    public var remaining: Double
    /// Attempts the policy allows in all, when it caps them (`nil`: limited by time only).
    public var maxAttempts: Int?

    public init(attempt: Int, failure: TransientFailure, delay: Double, remaining: Double, maxAttempts: Int?) {
        self.attempt = attempt
        self.failure = failure
        self.delay = delay
        self.remaining = remaining
        self.maxAttempts = maxAttempts
    }

    /// The progress line, e.g. `cannot reach http://x:8080 (connection refused); retrying in
    /// 0.5 s (attempt 2 of 4)`.
    public func line(server: String) -> String {
        let next = maxAttempts.map { "attempt \(attempt + 1) of \($0)" } ?? "giving up in \(Self.seconds(remaining))"
        return "cannot reach \(server) (\(failure.reason)); retrying in \(Self.seconds(delay)) (\(next))"
    }

    /// `0.2 s`, `5 s`.
    static func seconds(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? "\(tenths / 10) s" : "\(tenths / 10).\(tenths % 10) s"
    }
}
