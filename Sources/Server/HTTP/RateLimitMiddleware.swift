import Hummingbird

/// Refuses an authenticated request with `429 rate_limited` and `Retry-After` when its token
/// has used up its requests (see ``RateLimiter``). Runs after authentication, so the key is
/// the token's database id, never something a client can pick.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = CXRequestContext
    let limiter: RateLimiter
    let metrics: ServerMetrics

    func handle(_ request: Request, context: CXRequestContext, next: (Request, CXRequestContext) async throws -> Response) async throws -> Response {
        guard let user = context.user else { throw APIError.unauthorized }
        switch limiter.acquire(user.tokenID) {
        case .allowed:
            return try await next(request, context)
        case .limited(let seconds):
            metrics.requestsRateLimited.increment()
            var error = APIError(
                .tooManyRequests, code: "rate_limited",
                message: "too many requests with this token; retry in \(seconds) s")
            error.headers[.retryAfter] = String(seconds)
            throw error
        }
    }
}
