import CXPostgres
import Foundation
import Testing

/// How interpolation turns values into parameters; no database needed.
@Suite struct PostgresQueryTests {
    @Test func interpolatedValuesBecomeNumberedParameters() {
        let name = "x'; DROP TABLE t; --"
        let age = 42
        let query: PostgresQuery = "SELECT * FROM t WHERE name = \(name) AND age > \(age) AND ok = \(true)"
        #expect(query.sql == "SELECT * FROM t WHERE name = $1 AND age > $2 AND ok = $3")
        #expect(query.binds == [name, "42", "true"])
    }

    @Test func optionalsAndSpecialValues() {
        let missing: String? = nil
        let id = UUID(uuidString: "6BA7B810-9DAD-11D1-80B4-00C04FD430C8")!
        let optionalID: UUID? = id
        let query: PostgresQuery =
            "VALUES (\(missing), \(optionalID), \([UInt8]([0, 255, 16])), \(Int64.min), \(Double.infinity), \(Int32(7)))"
        #expect(query.sql == "VALUES ($1, $2, $3, $4, $5, $6)")
        #expect(query.binds == [nil, id.uuidString, "\\x00ff10", "-9223372036854775808", "Infinity", "7"])
    }

    @Test func literalWithoutInterpolationHasNoParameters() {
        let query: PostgresQuery = "SELECT 1"
        #expect(query.sql == "SELECT 1")
        #expect(query.binds.isEmpty)
    }

    @Test func customBindableTypes() {
        struct CustomerID: PostgresBindable {
            let raw: Int
            var postgresText: String? { "cust-\(raw)" }
        }
        let query: PostgresQuery = "SELECT \(CustomerID(raw: 9))"
        #expect(query.binds == ["cust-9"])
    }

    @Test func unsafeSQLKeepsBindsAsParameters() {
        let query = PostgresQuery(unsafeSQL: "INSERT INTO t VALUES ($1), ($2)", binds: ["a", nil])
        #expect(query.sql == "INSERT INTO t VALUES ($1), ($2)")
        #expect(query.binds == ["a", nil])
        #expect(!query.description.contains("a\""))
    }
}
