import CXPostgres
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CXServer

/// While the database is down the API answers `503 database_unavailable` with `Retry-After`,
/// never a 500: clients retry and keep their changes, monitoring sees an outage, not a bug.
@Suite struct DatabaseOutageTests {
    @Test func requestsWhileTheDatabaseIsDownAnswer503() async throws {
        // A pool pointing at a socket directory where no PostgreSQL listens.
        let pool = PostgresPool(connectionString: "host=/nonexistent-cx-socket dbname=cx connect_timeout=2", maxConnections: 2)
        var configuration = ServerConfiguration()
        configuration.port = 0
        let app = buildApplication(configuration: configuration, pool: pool, metrics: ServerMetrics(), logger: TestDatabase.logger)
        try await app.test(.router) { client in
            let response = try await client.sync(token: "cx_0123456789ab" + String(repeating: "0", count: 40), body: "{\"replica_id\":\"r\"}")
            #expect(response.status == .serviceUnavailable, "\(response.text)")
            #expect(response.text.contains("\"database_unavailable\""))
            #expect(response.headers[.retryAfter] == "2")
        }
        await pool.close()
    }

    @Test(arguments: [
        (PostgresError(.connectionFailed, "no server"), true), (PostgresError(.connectionLost, "reset"), true),
        (PostgresError(.queryFailed, "shutting down", sqlState: "57P01"), true),
        (PostgresError(.queryFailed, "starting up", sqlState: "57P03"), true),
        (PostgresError(.queryFailed, "unique", sqlState: "23505"), false), (PostgresError(.decodingFailed, "bad"), false),
    ])
    func whichDatabaseErrorsMeanUnavailable(error: PostgresError, unavailable: Bool) {
        #expect(JSONErrorMiddleware<CXRequestContext>.databaseUnavailable(error) == unavailable)
    }
}
