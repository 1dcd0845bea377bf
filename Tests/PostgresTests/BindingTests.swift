import CXPostgres
import Foundation
import Testing

extension PostgresTests {
    /// Values travel as parameters and come back unchanged.
    @Suite struct BindingTests {
        static let hostileStrings = [
            "",
            "plain",
            "O'Brien",
            "''",
            "\"double\"",
            "'; DROP TABLE victims; --",
            "Robert'); DROP TABLE students;--",
            "back\\slash \\x00 \\\\",
            "$1 $2 ? %s",
            "unicode: żółć 日本語 🧪👩‍👩‍👧 \u{200B}",
            "control: \u{01}\u{07}\t\n\r\u{1B}\u{7F}",
            String(repeating: "long ", count: 20_000),
        ]

        @Test func stringsRoundTripAndCannotInject() async throws {
            let table = uniqueName("victims")
            let strings = Self.hostileStrings
            let (back, count) = try await withPool { pool in
                try await pool.withConnection { connection in
                    try connection.executeScript("CREATE TABLE \(table) (id int PRIMARY KEY, value text)")
                    for (index, value) in strings.enumerated() {
                        try connection.query("INSERT INTO \(unsafe: table) (id, value) VALUES (\(index), \(value))")
                    }
                    let rows = try connection.query("SELECT id, value FROM \(unsafe: table) ORDER BY id")
                    let values = try rows.map { row in try row.decode("value", as: String.self) }
                    // The table still exists: nothing was executed as SQL.
                    let count = try connection.query("SELECT count(*) AS n FROM \(unsafe: table)")[0]
                        .decode("n", as: Int.self)
                    return (values, count)
                }
            }
            #expect(back == strings)
            #expect(count == strings.count)
        }

        @Test func stringsRoundTripThroughSelect() async throws {
            let strings = Self.hostileStrings
            let back = try await withPool { pool in
                try await pool.withConnection { connection in
                    try strings.map { value in
                        try connection.query("SELECT \(value)::text AS v")[0].decode("v", as: String.self)
                    }
                }
            }
            #expect(back == strings)
        }

        @Test func nulCharacterIsRejectedNotTruncated() async throws {
            let error = try await withPool { pool in
                try await pool.withConnection { connection in
                    thrownPostgresError { try connection.query("SELECT \("a\u{0}b")::text") }
                }
            }
            #expect(error?.code == .queryFailed)
        }

        @Test func numbersBooleansAndNull() async throws {
            let row = try await withPool { pool in
                try await pool.withConnection { connection in
                    let missing: Int? = nil
                    let present: Int64? = 5
                    return try connection.query(
                        """
                        SELECT \(Int64.max)::int8 AS max, \(Int64.min)::int8 AS min, \(Int32.min)::int4 AS i32,
                               \(Int.max)::int8 AS int, \(0.1)::float8 AS d, \(-1.5e300)::float8 AS big,
                               \(Double.infinity)::float8 AS inf, \(true) AS t, \(false) AS f,
                               \(missing)::int8 AS null_int, \(present)::int8 AS some_int
                        """
                    )[0]
                }
            }
            #expect(try row.decode("max", as: Int64.self) == .max)
            #expect(try row.decode("min", as: Int64.self) == .min)
            #expect(try row.decode("i32", as: Int32.self) == .min)
            #expect(try row.decode("int", as: Int.self) == .max)
            #expect(try row.decode("d", as: Double.self) == 0.1)
            #expect(try row.decode("big", as: Double.self) == -1.5e300)
            #expect(try row.decode("inf", as: Double.self) == .infinity)
            #expect(try row.decode("t", as: Bool.self) == true)
            #expect(try row.decode("f", as: Bool.self) == false)
            #expect(row["null_int"] == nil)
            #expect(try row.decode("null_int", as: Int64?.self) == nil)
            #expect(try row.decode("some_int", as: Int64?.self) == 5)
        }

        @Test func uuidDateAndBytea() async throws {
            let id = UUID()
            let noID: UUID? = nil
            let date = Date(timeIntervalSince1970: 1_715_000_000.123456)
            let oldDate = Date(timeIntervalSince1970: -2_000_000_000.5)
            let allBytes = [UInt8](0...255)
            let data = Data([0, 1, 2, 0x5c, 0x27])
            let row = try await withPool { pool in
                try await pool.withConnection { connection in
                    // A zone with a half-hour offset proves offsets are parsed, not assumed.
                    try connection.query("SET TIME ZONE 'Asia/Kolkata'")
                    return try connection.query(
                        """
                        SELECT \(id)::uuid AS id, \(noID)::uuid AS no_id, \(date)::timestamptz AS at,
                               \(oldDate)::timestamptz AS old, \(allBytes)::bytea AS bytes,
                               \([UInt8]())::bytea AS empty, \(data)::bytea AS data
                        """
                    )[0]
                }
            }
            #expect(try row.decode("id", as: UUID.self) == id)
            #expect(try row.decode("no_id", as: UUID?.self) == nil)
            #expect(row["at"]?.hasSuffix("+05:30") == true)
            let at = try row.decode("at", as: Date.self)
            #expect(abs(at.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001)
            let old = try row.decode("old", as: Date.self)
            #expect(abs(old.timeIntervalSince1970 - oldDate.timeIntervalSince1970) < 0.000_001)
            #expect(try row.decode("bytes", as: [UInt8].self) == allBytes)
            #expect(try row.decode("empty", as: [UInt8].self) == [])
            #expect(try row.decode("data", as: Data.self) == data)
        }

        @Test func affectedRowsAndMultiRowStatements() async throws {
            let table = uniqueName("affected")
            let (inserted, updated, tag) = try await withPool { pool in
                try await pool.withConnection { connection in
                    try connection.executeScript(
                        "CREATE TABLE \(table) (id int PRIMARY KEY, name text); CREATE INDEX ON \(table) (name);"
                    )
                    var sql = "INSERT INTO \(table) (id, name) VALUES "
                    var binds: [String?] = []
                    for id in 1...5 {
                        sql += (id > 1 ? ", " : "") + "($\(binds.count + 1), $\(binds.count + 2))"
                        binds += [String(id), id.isMultiple(of: 2) ? "even" : nil]
                    }
                    let inserted = try connection.query(PostgresQuery(unsafeSQL: sql, binds: binds)).affectedRows
                    let update = try connection.query("UPDATE \(unsafe: table) SET name = \("x") WHERE name IS NULL")
                    return (inserted, update.affectedRows, update.commandTag)
                }
            }
            #expect(inserted == 5)
            #expect(updated == 3)
            #expect(tag == "UPDATE 3")
        }
    }
}

extension PostgresQuery.Interpolation {
    /// Test-only: splices a generated table name. The library deliberately has no such API.
    mutating func appendInterpolation(unsafe identifier: String) {
        precondition(identifier.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
        appendLiteral(identifier)
    }
}
