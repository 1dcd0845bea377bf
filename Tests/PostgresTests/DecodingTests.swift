import CXPostgres
import Testing

extension PostgresTests {
    /// Typed decoding of text results, and its errors.
    @Suite struct DecodingTests {
        static func sampleRows() async throws -> PostgresRows {
            try await withPool { pool in
                try await pool.withConnection { connection in
                    try connection.query(
                        """
                        SELECT * FROM (VALUES (1, 'one', true, 1.5, NULL::text), (2, 'two', false, -2.25, 'x'))
                        AS t(id, name, flag, score, note) ORDER BY id
                        """
                    )
                }
            }
        }

        @Test func rowsExposeColumnsAndRawText() async throws {
            let rows = try await Self.sampleRows()
            #expect(rows.columns == ["id", "name", "flag", "score", "note"])
            #expect(rows.count == 2)
            #expect(rows[0]["name"] == "one")
            #expect(rows[0][1] == "one")
            #expect(rows[0]["flag"] == "t")
            #expect(rows[0]["note"] == nil)
            #expect(rows[1]["note"] == "x")
            #expect(rows[0]["no_such_column"] == nil)
            #expect(rows.map { $0["id"] } == ["1", "2"])
        }

        @Test func typedDecoding() async throws {
            let rows = try await Self.sampleRows()
            let first = rows[0]
            #expect(try first.decode("id", as: Int.self) == 1)
            #expect(try first.decode("id", as: Int64.self) == 1)
            #expect(try first.decode("name", as: String.self) == "one")
            #expect(try first.decode("flag", as: Bool.self))
            #expect(try first.decode("score", as: Double.self) == 1.5)
            #expect(try first.decode("note", as: String?.self) == nil)
            #expect(try rows[1].decode("note", as: String?.self) == "x")
            #expect(try rows[1].decode(2, as: Bool.self) == false)
            let inferred: Double = try rows[1].decode("score")
            #expect(inferred == -2.25)
        }

        @Test func decodingErrorsNameTheColumn() async throws {
            let row = try await Self.sampleRows()[0]
            let notANumber = thrownPostgresError { _ = try row.decode("name", as: Int.self) }
            #expect(notANumber?.code == .decodingFailed)
            #expect(notANumber?.message.contains("\"name\"") == true)

            let null = thrownPostgresError { _ = try row.decode("note", as: String.self) }
            #expect(null?.code == .decodingFailed)
            #expect(null?.message.contains("\"note\"") == true)
            #expect(null?.message.contains("NULL") == true)

            let missing = thrownPostgresError { _ = try row.decode("nope", as: String?.self) }
            #expect(missing?.code == .decodingFailed)
            #expect(missing?.message.contains("nope") == true)

            let notBool = thrownPostgresError { _ = try row.decode("score", as: Bool.self) }
            #expect(notBool?.code == .decodingFailed)

            let badIndex = thrownPostgresError { _ = try row.decode(99, as: Int.self) }
            #expect(badIndex?.code == .decodingFailed)

            let notBytea = thrownPostgresError { _ = try row.decode("name", as: [UInt8].self) }
            #expect(notBytea?.code == .decodingFailed)
        }
    }
}
