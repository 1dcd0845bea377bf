import Foundation
import CXPostgres
import Hummingbird
import Logging

/// Requires `Authorization: Bearer <token>` with a valid, unrevoked, unexpired token and puts
/// the user in the request context; anything else is a 401 with the JSON error body.
///
/// With a ``cache`` (the sync endpoint) a token checked moments ago is not read again: the
/// request confirms the cached check in its own statements (``Authentication``).
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = CXRequestContext
    let pool: PostgresPool
    /// Checks kept between requests; `nil`: every request reads the tokens table.
    var cache: AuthenticationCache? = nil

    func handle(_ request: Request, context: CXRequestContext, next: (Request, CXRequestContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.utf8.count <= 512 else { throw APIError.unauthorized }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
            let token = AccessToken(presented: String(parts[1]).trimmingCharacters(in: .whitespaces))
        else { throw APIError.unauthorized }
        let authentication: Authentication
        let tokenHash = cache == nil ? [] : token.hash
        if let cached = cache?.authentication(forTokenHash: tokenHash) {
            authentication = cached
        } else {
            let checked = try await pool.withConnection { connection in
                try UserStore.authentication(of: token, on: connection)
            }
            guard let checked else { throw APIError.unauthorized }
            cache?.remember(checked, tokenHash: tokenHash)
            authentication = checked
        }
        var context = context
        context.user = authentication.user
        context.authentication = authentication
        context.logger[metadataKey: "user"] = "\(authentication.user.name)"
        return try await next(request, context)
    }
}
