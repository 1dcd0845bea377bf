import CXModel
import CXPostgres
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import CXServer

@Suite(.serverDatabase) struct OperationsTests {
    @Test func healthReadinessAndMetrics() async throws {
        try await withTestApp { client, database in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "{\"status\":\"ok\"}")
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [try Records.customer()]))
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("cx_sync_records_pushed_total 1"))
                #expect(text.contains("cx_sync_records_pulled_total 1"))
                #expect(text.contains("cx_db_pool_connections_open"))
            }
        }
    }

    @Test func migrationsApplyOnceAndAnalystCanRead() async throws {
        try await withTestDatabase { database in
            let (again, versions, analystCanRead, analystCannotWrite) = try await database.sql { connection in
                let again = try Migrator(logger: TestDatabase.logger).migrate(connection)
                let versions = try Migrator(logger: TestDatabase.logger).appliedVersions(connection)
                let canRead = try connection.query(
                    "SELECT has_table_privilege('cx_analyst', 'cx.customers', 'SELECT') AS ok")[0].decode("ok", as: Bool.self)
                let canWrite = try connection.query(
                    "SELECT has_table_privilege('cx_analyst', 'cx.customers', 'INSERT') AS ok")[0].decode("ok", as: Bool.self)
                return (again, versions, canRead, !canWrite)
            }
            #expect(again.isEmpty)
            #expect(versions == Migration.all.map(\.version))
            #expect(analystCanRead)
            #expect(analystCannotWrite)
        }
    }
}
