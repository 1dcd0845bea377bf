import CXModel
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

@testable import CXServer

/// Runs `body` against the real router over a fresh database.
///
/// With `migrations` (fewer than all), `preparing` runs on the database as an earlier server
/// left it, before the application starts; it is expected to finish the upgrade.
func withTestApp(
    configure: (inout ServerConfiguration) -> Void = { _ in },
    migrations: [Migration] = Migration.all,
    preparing: (TestDatabase) async throws -> Void = { _ in },
    logger: Logger = TestDatabase.logger,
    _ body: @escaping @Sendable (any TestClientProtocol, TestDatabase) async throws -> Void
) async throws {
    try await withTestDatabase(migrations: migrations) { database in
        try await preparing(database)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configure(&configuration)
        let app = buildApplication(configuration: configuration, pool: database.pool, metrics: ServerMetrics(), logger: logger)
        try await app.test(.router) { client in try await body(client, database) }
    }
}

extension TestClientProtocol {
    /// `POST /v1/sync` with a bearer token and a JSON body.
    func sync(token: String?, body: String, contentType: String = "application/json") async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: contentType]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: "/v1/sync", method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}
