import Foundation
import CXPostgres
import Hummingbird
import Logging

/// Requires `Authorization: Bearer <token>` with a valid, unrevoked, unexpired token and puts
/// the user in the request context; anything else is a 401 with the JSON error body.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = CXRequestContext
    let pool: PostgresPool

    func handle(_ request: Request, context: CXRequestContext, next: (Request, CXRequestContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.utf8.count <= 512 else { throw APIError.unauthorized }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw APIError.unauthorized }
        let presented = String(parts[1]).trimmingCharacters(in: .whitespaces)
        let user = try await pool.withConnection { connection in
            try UserStore.authenticate(presented, on: connection)
        }
        guard let user else { throw APIError.unauthorized }
        var context = context
        context.user = user
        context.logger[metadataKey: "user"] = "\(user.name)"
        return try await next(request, context)
    }
}
