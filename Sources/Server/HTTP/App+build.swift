import CXModel
import CXPostgres
import Hummingbird
import Logging
import NIOCore

/// Everything the HTTP application needs, so tests build the same app with test settings.
public struct ServerConfiguration: Sendable {
    /// Address to listen on.
    public var host = "127.0.0.1"
    /// Port to listen on (0 picks a free one).
    public var port = 8080
    /// Largest accepted request body, in bytes.
    public var maxBodyBytes = 32 * 1024 * 1024
    /// Per-request record and page limits.
    var syncLimits = SyncRequest.Limits()
    /// How long a connection may stay open with no request in progress before it is closed.
    public var idleTimeout: TimeAmount = .seconds(60)
    /// The longest pause allowed while a request body is being received; a client
    /// that stops sending mid-request is disconnected instead of holding its connection forever.
    public var readTimeout: TimeAmount = .seconds(30)
    /// Requests per token: sustained rate and burst; `nil` turns the limit off.
    public var rateLimit: (requestsPerSecond: Double, burst: Int)? = (20, 120)
    /// Whether concurrent pushes share transactions (``PushCoalescer``); off, each push commits
    /// alone (for comparison in `cx-bench concurrent`).
    public var groupCommit = true

    public init() {}

    /// Most records one request may push.
    public var maxChangesPerRequest: Int {
        get { syncLimits.maxChanges }
        set { syncLimits.maxChanges = newValue }
    }

    /// Most changes one response may carry.
    public var maxPullLimit: Int {
        get { syncLimits.maxPullLimit }
        set { syncLimits.maxPullLimit = newValue }
    }
}

/// Builds the router: operations endpoints, and the authenticated `/v1` API.
func buildRouter(configuration: ServerConfiguration, pool: PostgresPool, metrics: ServerMetrics) -> Router<CXRequestContext> {
    let router = Router(context: CXRequestContext.self)
    router.middlewares.add(JSONErrorMiddleware())
    router.middlewares.add(MethodNotAllowedMiddleware())
    router.middlewares.add(MetricsMiddleware())
    router.middlewares.add(LogRequestsMiddleware(.debug))
    OperationsController(pool: pool, metrics: metrics).register(on: router)
    let v1 = router.group("v1")
    // Syncs, a busy client's every few seconds, confirm a cached token check in their own
    // statements (Authentication); the rest read the tokens table each time.
    var authenticated = v1.group().add(middleware: BearerAuthMiddleware(pool: pool))
    let authentications = AuthenticationCache()
    var syncing = v1.group().add(middleware: BearerAuthMiddleware(pool: pool, cache: authentications))
    if let rate = configuration.rateLimit {
        // One limiter for both: a user's budget covers all of their requests.
        let limiter = RateLimiter(limits: .init(requestsPerSecond: rate.requestsPerSecond, burst: rate.burst))
        authenticated = authenticated.add(middleware: RateLimitMiddleware(limiter: limiter, metrics: metrics))
        syncing = syncing.add(middleware: RateLimitMiddleware(limiter: limiter, metrics: metrics))
    }
    HistoryController(pool: pool).register(on: authenticated)
    let store = RecordStore(pool: pool)
    SyncController(
        store: store, pushes: configuration.groupCommit ? PushCoalescer(store: store) : nil, authentications: authentications,
        limits: configuration.syncLimits, maxBodyBytes: configuration.maxBodyBytes, metrics: metrics
    ).register(on: syncing)
    authenticated.get("me") { _, context -> CurrentUser in
        guard let user = context.user else { throw APIError.unauthorized }
        return CurrentUser(user: user.name, role: user.role.rawValue)
    }
    return router
}

/// Builds the HTTP application over an open pool.
///
/// - Parameter onServerRunning: called with the listening channel once the server accepts
///   connections (its `localAddress` tells the port when `configuration.port` is 0).
public func buildApplication(
    configuration: ServerConfiguration, pool: PostgresPool, metrics: ServerMetrics, logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let readTimeout = configuration.readTimeout
    return Application(
        router: buildRouter(configuration: configuration, pool: pool, metrics: metrics),
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [RequestReadTimeoutHandler(timeout: readTimeout)],
                idleTimeout: configuration.idleTimeout)),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "cx-server"),
        onServerRunning: onServerRunning,
        logger: logger)
}
