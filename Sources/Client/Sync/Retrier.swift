/// Runs a request, retrying ``TransientFailure``s as a ``RetryPolicy`` says, on an injected
/// ``RetryClock`` (a fake one in tests), reporting each retry to an observer (a progress line on
/// a terminal).
public struct Retrier: Sendable {
    public var policy: RetryPolicy
    public var clock: any RetryClock
    /// Called before each wait; `nil`: silent.
    public var observer: (@Sendable (RetryNotice) -> Void)?
    /// The longest `Retry-After` (seconds) waited out; a longer one gives up at once.
    public var longestRetryAfter: Int

    /// Creates a retrier.
    public init(
        policy: RetryPolicy = .standard, clock: any RetryClock = SystemRetryClock(), longestRetryAfter: Int = 30,
        observer: (@Sendable (RetryNotice) -> Void)? = nil
    ) {
        self.policy = policy
        self.clock = clock
        self.longestRetryAfter = longestRetryAfter
        self.observer = observer
    }

    /// Why ``run(_:)`` gave up.
    public struct GaveUp: Error, Sendable {
        /// The last failure.
        public var failure: TransientFailure
        /// Attempts made.
        public var attempts: Int
        /// Seconds from the first attempt to giving up.
        public var elapsed: Double
        /// Whether it gave up because the server asked to wait longer than ``Retrier/longestRetryAfter``.
        public var waitTooLong: Bool
    }

    /// Runs `attempt` until it succeeds, throws something other than a ``TransientFailure``,
    /// or the policy gives up.
    ///
    /// - Throws: ``GaveUp`` when the policy gives up; any other error of `attempt` as is.
    public func run<T>(_ attempt: () async throws -> T) async throws -> T {
        let start = clock.now()
        var retries = 0
        while true {
            do {
                return try await attempt()
            } catch let failure as TransientFailure {
                let elapsed = clock.now() - start
                if let wait = failure.retryAfter, wait > longestRetryAfter {
                    throw GaveUp(failure: failure, attempts: retries + 1, elapsed: elapsed, waitTooLong: true)
                }
                guard let delay = policy.delay(afterRetries: retries, elapsed: elapsed, retryAfter: failure.retryAfter) else {
                    throw GaveUp(failure: failure, attempts: retries + 1, elapsed: elapsed, waitTooLong: false)
                }
                retries += 1
                observer?(RetryNotice(
                    attempt: retries, failure: failure, delay: delay, remaining: Swift.max(0, policy.budget - elapsed),
                    maxAttempts: policy.maxRetries.map { $0 + 1 }))
                await clock.sleep(seconds: delay)
            }
        }
    }
}
