/// A request that got no usable answer but may succeed if tried again: no connection, a
/// timeout, a 5xx or 408 answer, or a 429 with `Retry-After`. ``Retrier`` retries these.
public struct TransientFailure: Error, Sendable, Equatable {
    /// Why the request failed, as far as it matters for retrying and for the message.
    public enum Kind: Sendable, Equatable {
        /// The connection was refused outright (ECONNREFUSED): nothing listens there.
        case refused
        /// No connection or answer in time.
        case timeout
        /// The server answered 408 or 5xx.
        case serverError
        /// The server answered 429 (rate limited).
        case rateLimited
        /// Any other network failure (reset, DNS, TLS…).
        case network
    }

    public var kind: Kind
    /// What went wrong, in words (`connection refused`, `HTTP 503: …`).
    public var reason: String
    /// Seconds the server asked to wait (429 `Retry-After`).
    public var retryAfter: Int?

    public init(_ kind: Kind, reason: String, retryAfter: Int? = nil) {
        self.kind = kind
        self.reason = reason
        self.retryAfter = retryAfter
    }
}
