import CXPostgres
import Foundation
import Testing

extension PostgresTests {
    /// Server errors carry SQLSTATE and leave the connection usable.
    @Suite struct ErrorTests {
        @Test func sqlErrorsCarrySQLState() async throws {
            let table = uniqueName("errors")
            let (duplicate, syntax, undefined, stillWorks) = try await withPool { pool in
                try await pool.withConnection { connection in
                    try connection.executeScript("CREATE TABLE \(table) (id int PRIMARY KEY)")
                    try connection.query("INSERT INTO \(unsafe: table) VALUES (\(1))")
                    let duplicate = thrownPostgresError {
                        try connection.query("INSERT INTO \(unsafe: table) VALUES (\(1))")
                    }
                    let syntax = thrownPostgresError { try connection.query("SELEC 1") }
                    let undefined = thrownPostgresError { try connection.executeScript("SELECT * FROM no_such_table_xyz") }
                    let stillWorks = try connection.query("SELECT 1 AS one")[0].decode("one", as: Int.self)
                    return (duplicate, syntax, undefined, stillWorks)
                }
            }
            #expect(duplicate?.code == .queryFailed)
            #expect(duplicate?.sqlState == PostgresError.SQLState.uniqueViolation)
            #expect(duplicate?.message.contains("duplicate key") == true)
            #expect(duplicate?.message.contains("DETAIL:") == true)
            #expect(duplicate?.description.contains("23505") == true)
            #expect(syntax?.sqlState == "42601")
            #expect(undefined?.sqlState == "42P01")
            #expect(stillWorks == 1)
        }

        @Test func connectionFailureExplainsWhatToCheck() async throws {
            let error = try await offload {
                thrownPostgresError {
                    _ = try PostgresConnection(connectionString: "host=/nonexistent/socket/dir dbname=cx user=cx")
                }
            }
            #expect(error?.code == .connectionFailed)
            #expect(error?.message.contains("DATABASE_URL") == true)
            #expect(error?.message.contains("PGHOST") == true)
        }

        @Test func urlConnectionStringsWork() async throws {
            let socket = try #require(TestCluster.current).socketDirectory
            let value = try await offload {
                // libpq URLs put a socket directory in the host query parameter, percent-encoded.
                let encoded = socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? socket
                let connection = try PostgresConnection(connectionString: "postgresql://cx@/cx?host=\(encoded)")
                return try connection.query("SELECT current_database() AS db")[0].decode("db", as: String.self)
            }
            #expect(value == "cx")
        }
    }
}
