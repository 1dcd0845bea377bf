import CXPostgres
import Testing

extension PostgresTests {
    /// `transaction` commits on return and rolls back on a thrown error.
    @Suite struct TransactionTests {
        struct Boom: Error, Equatable {}

        @Test func commitPersists() async throws {
            let table = uniqueName("tx_commit")
            let (returned, count) = try await withPool { pool in
                try await pool.withConnection { connection in
                    try connection.executeScript("CREATE TABLE \(table) (id int)")
                    let returned = try connection.transaction { tx in
                        try tx.query("INSERT INTO \(unsafe: table) VALUES (\(1)), (\(2))")
                        return "done"
                    }
                    let count = try connection.query("SELECT count(*) AS n FROM \(unsafe: table)")[0].decode("n", as: Int.self)
                    return (returned, count)
                }
            }
            #expect(returned == "done")
            #expect(count == 2)
        }

        @Test func openingStatementRunsInsideTheTransactionInOneRoundTrip() async throws {
            let table = uniqueName("tx_opening")
            let (seen, count) = try await withPool { pool in
                try await pool.withConnection { connection in
                    try connection.executeScript("CREATE TABLE \(table) (id int); INSERT INTO \(table) VALUES (7)")
                    let seen = try connection.transaction(opening: "SELECT id, txid_current_if_assigned() IS NULL AS fresh FROM \(table)") { tx, rows in
                        try tx.query("INSERT INTO \(unsafe: table) VALUES (\(8))")
                        return try (rows[0].decode("id", as: Int.self), rows[0].decode("fresh", as: Bool.self), tx.isInTransaction)
                    }
                    let count = try connection.query("SELECT count(*) AS n FROM \(unsafe: table)")[0].decode("n", as: Int.self)
                    return (seen, count)
                }
            }
            #expect(seen.0 == 7 && seen.1 && seen.2)
            #expect(count == 2)
        }

        @Test func failingOpeningStatementLeavesNoTransactionOpen() async throws {
            let (failed, inTransaction, usable) = try await withPool { pool in
                try await pool.withConnection { connection in
                    var failed = false
                    do {
                        try connection.transaction(opening: "SELECT 1 / 0 AS boom") { _, _ in Issue.record("the body ran") }
                    } catch let error as PostgresError {
                        failed = error.message.contains("division by zero")
                    }
                    return (failed, connection.isInTransaction, try connection.query("SELECT 1 AS one")[0].decode("one", as: Int.self))
                }
            }
            #expect(failed)
            #expect(!inTransaction)
            #expect(usable == 1)
        }

        @Test func thrownErrorRollsBackAndIsRethrown() async throws {
            let table = uniqueName("tx_rollback")
            let (rethrown, count, inTransaction) = try await withPool { pool in
                try await pool.withConnection { connection in
                    try connection.executeScript("CREATE TABLE \(table) (id int)")
                    var rethrown = false
                    do {
                        try connection.transaction(isolation: .serializable) { tx in
                            try tx.query("INSERT INTO \(unsafe: table) VALUES (\(1))")
                            throw Boom()
                        }
                    } catch is Boom {
                        rethrown = true
                    }
                    let count = try connection.query("SELECT count(*) AS n FROM \(unsafe: table)")[0].decode("n", as: Int.self)
                    return (rethrown, count, connection.isInTransaction)
                }
            }
            #expect(rethrown)
            #expect(count == 0)
            #expect(!inTransaction)
        }

        @Test func sqlErrorInsideRollsBackWithOriginalError() async throws {
            let table = uniqueName("tx_sqlerror")
            let (error, count) = try await withPool { pool in
                try await pool.withConnection { connection in
                    try connection.executeScript("CREATE TABLE \(table) (id int PRIMARY KEY)")
                    let error = thrownPostgresError {
                        try connection.transaction { tx in
                            try tx.query("INSERT INTO \(unsafe: table) VALUES (\(1))")
                            try tx.query("INSERT INTO \(unsafe: table) VALUES (\(1))")
                        }
                    }
                    let count = try connection.query("SELECT count(*) AS n FROM \(unsafe: table)")[0].decode("n", as: Int.self)
                    return (error, count)
                }
            }
            #expect(error?.sqlState == "23505")
            #expect(count == 0)
        }

        @Test func swallowedErrorDoesNotLookLikeACommit() async throws {
            let table = uniqueName("tx_swallowed")
            let (error, count) = try await withPool { pool in
                try await pool.withConnection { connection in
                    try connection.executeScript("CREATE TABLE \(table) (id int PRIMARY KEY)")
                    let error = thrownPostgresError {
                        try connection.transaction { tx in
                            try tx.query("INSERT INTO \(unsafe: table) VALUES (\(1))")
                            _ = try? tx.query("SELEC broken")
                        }
                    }
                    let count = try connection.query("SELECT count(*) AS n FROM \(unsafe: table)")[0].decode("n", as: Int.self)
                    return (error, count)
                }
            }
            #expect(error?.code == .queryFailed)
            #expect(error?.message.contains("rolled back") == true)
            #expect(count == 0)
        }

        @Test func poolRollsBackALeftOpenTransaction() async throws {
            let table = uniqueName("tx_leftopen")
            let (inTransaction, count) = try await withPool(maxConnections: 1) { pool in
                try await pool.withConnection { connection in
                    try connection.executeScript("CREATE TABLE \(table) (id int)")
                    try connection.query("BEGIN")
                    try connection.query("INSERT INTO \(unsafe: table) VALUES (\(1))")
                }
                return try await pool.withConnection { connection in
                    let count = try connection.query("SELECT count(*) AS n FROM \(unsafe: table)")[0].decode("n", as: Int.self)
                    return (connection.isInTransaction, count)
                }
            }
            #expect(!inTransaction)
            #expect(count == 0)
        }
    }
}
