/// How long `cx` keeps trying a server that does not answer: the waits between attempts, how
/// many retries at most, and the total time after which it gives up.
///
/// ``standard`` is what every command uses unless told otherwise: three quick retries (0.2 s,
/// 0.5 s, 1 s). A refused connection (nothing listens: the server is not running) fails at
/// once, so the whole try takes under 2 s; a connection that times out (3 s per attempt) takes
/// about 14 s. ``patient(seconds:)`` (`--retry-for SECONDS`, `CX_RETRY_FOR`) keeps retrying
/// with growing waits — refused connections too, e.g. while a server starts — until `seconds`
/// have passed since the first attempt.
public struct RetryPolicy: Sendable, Equatable {
    /// The successive waits between attempts, in seconds; the last one repeats.
    public var backoff: [Double]
    /// The most retries after the first attempt; `nil`: as many as ``budget`` allows.
    public var maxRetries: Int?
    /// Seconds since the first attempt after which no new attempt starts.
    public var budget: Double

    /// Creates a policy.
    public init(backoff: [Double], maxRetries: Int?, budget: Double) {
        self.backoff = backoff
        self.maxRetries = maxRetries
        self.budget = budget
    }

    /// The default: retries after 0.2 s, 0.5 s and 1 s, within 15 s.
    public static let standard = RetryPolicy(backoff: [0.2, 0.5, 1.0], maxRetries: 3, budget: 15)

    /// One attempt, no retry (`cx init`, which works offline when the server is away).
    public static let once = RetryPolicy(backoff: [], maxRetries: 0, budget: 0)

    /// Retries with growing waits (0.2 s, 0.5 s, 1 s, 2 s, 4 s, then every 5 s) until `seconds`
    /// have passed since the first attempt; `0` means a single attempt.
    public static func patient(seconds: Double) -> RetryPolicy {
        RetryPolicy(backoff: [0.2, 0.5, 1, 2, 4, 5], maxRetries: seconds > 0 ? nil : 0, budget: Swift.max(0, seconds))
    }

    /// The wait before retry number `retries + 1`, or `nil` to give up.
    ///
    /// - Parameters:
    ///   - retries: Retries made so far (0 after the first attempt failed).
    ///   - elapsed: Seconds since the first attempt started.
    ///   - retryAfter: Seconds the server asked to wait (HTTP 429 `Retry-After`), if any.
    public func delay(afterRetries retries: Int, elapsed: Double, retryAfter: Int? = nil) -> Double? {
        if let maxRetries, retries >= maxRetries { return nil }
        var delay = backoff.isEmpty ? 0 : backoff[Swift.min(retries, backoff.count - 1)]
        if let retryAfter { delay = Swift.max(delay, Double(retryAfter)) }
        guard elapsed + delay <= budget else { return nil }
        return delay
    }

    /// The policy a command runs with: `--retry-for` if given, else `$CX_RETRY_FOR`, else
    /// ``standard``.
    ///
    /// - Throws: exit 64 when `CX_RETRY_FOR` is not a number of seconds ≥ 0.
    public static func resolve(flag: Double?, environment: [String: String]) throws -> RetryPolicy {
        if let flag { return .patient(seconds: flag) }
        if let text = environment["CX_RETRY_FOR"], !text.isEmpty {
            guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
                throw CXError(.usage, "CX_RETRY_FOR='\(text)' is not a number of seconds",
                              hint: "Set it to the seconds to keep retrying an unreachable server, e.g. CX_RETRY_FOR=60, or unset it.")
            }
            return .patient(seconds: seconds)
        }
        return .standard
    }
}
