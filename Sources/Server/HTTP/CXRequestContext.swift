import Hummingbird

/// The per-request context: Hummingbird's core storage plus the authenticated user, set by
/// ``BearerAuthMiddleware`` on `/v1` routes.
public struct CXRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The user behind the bearer token, once authenticated.
    public var user: AuthenticatedUser?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        user = nil
    }
}
