import Synchronization

/// A token bucket per access token: each request takes one token; tokens refill at
/// `requestsPerSecond` up to `burst`. One user's flood empties only their own bucket.
///
/// Buckets live in this process: with several server instances behind a load balancer each
/// instance limits on its own (documented in docs/security.md).
final class RateLimiter: Sendable {
    /// The limits, or `nil` to allow everything.
    struct Limits: Sendable, Equatable {
        var requestsPerSecond: Double
        var burst: Int
    }

    /// A refused request's wait before a token is available.
    enum Decision: Equatable {
        case allowed
        case limited(retryAfterSeconds: Int)
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let limits: Limits
    private let buckets = Mutex<[Int64: Bucket]>([:])

    init(limits: Limits) {
        precondition(limits.requestsPerSecond > 0 && limits.burst >= 1, "rate limits must be positive")
        self.limits = limits
    }

    /// Takes one token from `key`'s bucket, if there is one.
    func acquire(_ key: Int64, now: ContinuousClock.Instant = .now) -> Decision {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: Double(limits.burst), updated: now)
            let elapsed = bucket.updated.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(Double(limits.burst), bucket.tokens + max(0, seconds) * limits.requestsPerSecond)
            bucket.updated = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else {
                let wait = (1 - bucket.tokens) / limits.requestsPerSecond
                return .limited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
            }
            bucket.tokens -= 1
            return .allowed
        }
    }
}
