import HTTPTypes
import Hummingbird

/// Answers a request for a known path with a method that path does not serve with
/// `405 method_not_allowed` and an `Allow` header listing the methods it does serve (RFC 9110
/// §15.5.6), instead of the router's 404 — whatever the method, standard or not.
///
/// Runs before authentication: which methods a path serves is no secret.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// A route: path segments (`:name` matches any one segment) and the methods served there.
    struct Route: Sendable {
        let segments: [Substring]
        let methods: [HTTPRequest.Method]

        init(_ path: String, _ methods: [HTTPRequest.Method]) {
            segments = path.split(separator: "/")
            self.methods = methods
        }

        func matches(_ path: [Substring]) -> Bool {
            path.count == segments.count && zip(segments, path).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }
    }

    /// The routes of the API, as `docs/openapi.yaml` describes them.
    static var routes: [Route] {
        [
            Route("/v1/sync", [.post]),
            Route("/v1/me", [.get]),
            Route("/v1/records/:id/history", [.get]),
            Route("/healthz", [.get]),
            Route("/readyz", [.get]),
            Route("/metrics", [.get]),
        ]
    }

    let routes: [Route]

    init(routes: [Route] = Self.routes) {
        self.routes = routes
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path.split(separator: "/")
        if let route = routes.first(where: { $0.matches(path) }), !route.methods.contains(request.method) {
            let allowed = route.methods.map(\.rawValue).joined(separator: ", ")
            var error = APIError(
                .methodNotAllowed, code: "method_not_allowed",
                message: "\(request.uri.path) does not accept \(request.method.rawValue); use \(allowed)")
            error.headers[.allow] = allowed
            throw error
        }
        return try await next(request, context)
    }
}
