import Synchronization

/// Token checks kept in memory for the sync endpoint, so a busy client's requests do not each
/// query the tokens table (under 200 clients that query, and the wait for a pooled connection
/// to run it, were a tenth of the server's work; docs/benchmarks.md, session 22).
///
/// A cached check is never trusted alone: it carries the access version it was read at, and the
/// request's own statements compare it with the current one (``Authentication``), so a
/// revocation, a lost territory or a closed hand-off window applies to the very next request.
/// Time alone ends a check too: it is dropped when its token expires or a hand-off window
/// closes, and after ``maxAge`` in any case (so the token's `last_used_at` stays within a
/// minute or two). Keys are the tokens' SHA-256 hashes; unknown tokens are never cached.
final class AuthenticationCache: Sendable {
    /// Longest a check is served from memory.
    let maxAge: Duration
    /// Most checks kept; past it the expired ones go, and if none has, all of them.
    let capacity: Int

    private let entries = Mutex<[[UInt8]: Entry]>([:])

    private struct Entry: Sendable {
        let authentication: Authentication
        let expires: ContinuousClock.Instant
    }

    init(maxAge: Duration = .seconds(30), capacity: Int = 10_000) {
        precondition(capacity >= 1)
        self.maxAge = maxAge
        self.capacity = capacity
    }

    /// The cached check of the token whose hash is `tokenHash`, if one has not expired.
    func authentication(forTokenHash tokenHash: [UInt8], now: ContinuousClock.Instant = .now) -> Authentication? {
        entries.withLock { entries in
            guard let entry = entries[tokenHash] else { return nil }
            guard entry.expires > now else {
                entries[tokenHash] = nil
                return nil
            }
            return entry.authentication
        }
    }

    /// Keeps `authentication` for its token (whose hash is `tokenHash`) until it stops holding
    /// or ``maxAge`` passes.
    func remember(_ authentication: Authentication, tokenHash: [UInt8], now: ContinuousClock.Instant = .now) {
        let age = authentication.holdsFor.map { min($0, maxAge) } ?? maxAge
        guard age > .zero else { return }
        entries.withLock { entries in
            if entries.count >= capacity && entries[tokenHash] == nil {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[tokenHash] = Entry(authentication: authentication, expires: now + age)
        }
    }

    /// Drops the check of the token whose hash is `tokenHash` (it no longer authenticates).
    func forget(tokenHash: [UInt8]) {
        _ = entries.withLock { $0.removeValue(forKey: tokenHash) }
    }

    /// How many checks are kept (expired ones included until looked up or pushed out).
    var count: Int { entries.withLock { $0.count } }
}
