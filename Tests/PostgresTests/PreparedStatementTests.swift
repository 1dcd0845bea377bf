import CXPostgres
import Foundation
import Testing

extension PostgresTests {
    /// Named prepared statements: prepared once per session, run with new values each time,
    /// and prepared again when the session is new.
    @Suite struct PreparedStatementTests {
        @Test func aPreparedStatementRunsWithNewValuesEachTime() async throws {
            let table = uniqueName("prepared")
            let strings = BindingTests.hostileStrings
            let back = try await withPool { pool in
                try await pool.withConnection { connection in
                    try connection.executeScript("CREATE TABLE \(table) (id int PRIMARY KEY, value text)")
                    for (index, value) in strings.enumerated() {
                        try connection.query(
                            "INSERT INTO \(unsafe: table) (id, value) VALUES (\(index), \(value))", preparedAs: "test_insert_\(table)")
                    }
                    return try strings.indices.map { index in
                        try connection.query("SELECT value FROM \(unsafe: table) WHERE id = \(index)", preparedAs: "test_select_\(table)")[0]
                            .decode("value", as: String.self)
                    }
                }
            }
            #expect(back == strings)
        }

        @Test func aStatementPreparedInARolledBackTransactionStaysPrepared() async throws {
            let name = uniqueName("test_rolled_back")
            let (failure, values) = try await withPool { pool in
                try await pool.withConnection { connection in
                    let failure = thrownPostgresError {
                        try connection.transaction { connection in
                            _ = try connection.query("SELECT \(1) + 1 AS n", preparedAs: name)
                            try connection.query("SELECT 1 / 0")
                        }
                    }
                    return (failure, try [2, 3].map { value in
                        try connection.query("SELECT \(value) + 1 AS n", preparedAs: name)[0].decode("n", as: Int.self)
                    })
                }
            }
            #expect(failure?.code == .queryFailed)
            #expect(values == [3, 4])
        }

        @Test func aResetSessionPreparesAgain() async throws {
            let name = uniqueName("test_reset")
            let values = try await withPool { pool in
                try await pool.withConnection { connection in
                    let before = try connection.query("SELECT \(20) * 2 AS n", preparedAs: name)[0].decode("n", as: Int.self)
                    try connection.reset()
                    let after = try connection.query("SELECT \(21) * 2 AS n", preparedAs: name)[0].decode("n", as: Int.self)
                    return [before, after]
                }
            }
            #expect(values == [40, 42])
        }

        @Test func aNULInAValueIsRejectedNotTruncated() async throws {
            let error = try await withPool { pool in
                try await pool.withConnection { connection in
                    thrownPostgresError { _ = try connection.query("SELECT \("a\u{0}b") AS v", preparedAs: uniqueName("test_nul")) }
                }
            }
            #expect(error?.code == .queryFailed)
        }
    }
}
