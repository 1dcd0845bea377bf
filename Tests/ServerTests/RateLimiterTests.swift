import Testing

@testable import CXServer

/// The token bucket, driven by an injected clock: no sleeps, no timing flakiness.
@Suite struct RateLimiterTests {
    let start = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant {
        start.advanced(by: .milliseconds(Int64(seconds * 1000)))
    }

    @Test func aBurstIsAllowedThenTheNextRequestWaits() {
        let limiter = RateLimiter(limits: .init(requestsPerSecond: 2, burst: 3))
        for _ in 0..<3 { #expect(limiter.acquire(1, now: at(0)) == .allowed) }
        // Empty: one token comes back after half a second, said as a whole second.
        #expect(limiter.acquire(1, now: at(0)) == .limited(retryAfterSeconds: 1))
        #expect(limiter.acquire(1, now: at(0.5)) == .allowed)
        #expect(limiter.acquire(1, now: at(0.5)) == .limited(retryAfterSeconds: 1))
    }

    @Test func refillStopsAtTheBurst() {
        let limiter = RateLimiter(limits: .init(requestsPerSecond: 10, burst: 2))
        #expect(limiter.acquire(7, now: at(0)) == .allowed)
        // An hour idle refills to the burst, not to 36,000 tokens.
        #expect(limiter.acquire(7, now: at(3600)) == .allowed)
        #expect(limiter.acquire(7, now: at(3600)) == .allowed)
        #expect(limiter.acquire(7, now: at(3600)) == .limited(retryAfterSeconds: 1))
    }

    @Test func aSlowRateSaysHowLongToWait() {
        let limiter = RateLimiter(limits: .init(requestsPerSecond: 0.1, burst: 1))
        #expect(limiter.acquire(1, now: at(0)) == .allowed)
        #expect(limiter.acquire(1, now: at(0)) == .limited(retryAfterSeconds: 10))
        #expect(limiter.acquire(1, now: at(4)) == .limited(retryAfterSeconds: 6))
        #expect(limiter.acquire(1, now: at(10.5)) == .allowed)
    }

    @Test func oneUsersFloodLeavesOthersAlone() {
        let limiter = RateLimiter(limits: .init(requestsPerSecond: 1, burst: 1))
        #expect(limiter.acquire(1, now: at(0)) == .allowed)
        #expect(limiter.acquire(1, now: at(0)) != .allowed)
        #expect(limiter.acquire(2, now: at(0)) == .allowed)
    }

    @Test func aClockGoingBackwardsGrantsNothing() {
        let limiter = RateLimiter(limits: .init(requestsPerSecond: 1, burst: 1))
        #expect(limiter.acquire(1, now: at(10)) == .allowed)
        #expect(limiter.acquire(1, now: at(5)) != .allowed)
    }
}
