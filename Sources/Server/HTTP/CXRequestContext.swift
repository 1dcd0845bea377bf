import Foundation
import Hummingbird

/// The per-request context: Hummingbird's core storage plus the authenticated user, set by
/// ``BearerAuthMiddleware`` on `/v1` routes.
public struct CXRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The user behind the bearer token, once authenticated.
    public var user: AuthenticatedUser?
    /// The token's check behind ``user``, which the sync endpoint confirms in its own statements
    /// (it may come from ``AuthenticationCache``).
    var authentication: Authentication?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        user = nil
        authentication = nil
    }

    /// Small documents (`/v1/me`) are encoded with `Codable`, keys sorted so every answer is
    /// byte-for-byte stable. (Record states and sync replies use the Model's own writer.)
    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
