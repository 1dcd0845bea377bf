import CXPostgres
import Testing

extension PostgresTests {
    /// COPY FROM STDIN / TO STDOUT round trips.
    @Suite struct CopyTests {
        @Test func copyInThenOutRoundTrips() async throws {
            let table = uniqueName("copy")
            var input = ""
            for id in 1...2_000 {
                input += "\(id)\tname \(id) \\t tab\t\(id.isMultiple(of: 3) ? "\\N" : "note")\n"
            }
            let bytes = Array(input.utf8)
            let (copied, output, count) = try await withPool { pool in
                try await pool.withConnection { connection in
                    try connection.executeScript("CREATE TABLE \(table) (id int PRIMARY KEY, name text, note text)")
                    let copied = try connection.copyIn("COPY \(table) FROM STDIN", data: bytes)
                    let output = try connection.copyOut("COPY (SELECT * FROM \(table) ORDER BY id) TO STDOUT")
                    let count = try connection.query("SELECT count(*) AS n FROM \(unsafe: table) WHERE note IS NULL")[0]
                        .decode("n", as: Int.self)
                    return (copied, output, count)
                }
            }
            #expect(copied == 2_000)
            #expect(output == bytes)
            #expect(count == 666)
        }

        /// Rows encoded in separate pieces (a group commit's records, each encoded ahead on its
        /// own) are numbered and joined as the same rows in one piece would be.
        @Test func piecesArePrefixedAsOneRunOfRows() {
            func row(_ name: String, _ note: String?) -> PostgresCopyText {
                var text = PostgresCopyText(capacity: 64)
                text.text(name)
                text.optionalText(note)
                text.endRow()
                return text
            }
            var whole = PostgresCopyText()
            var pieces: [PostgresCopyText] = []
            var several = PostgresCopyText()
            for (index, (name, note)) in [("a\tb", "x"), ("c", nil), ("d\ne", "y"), ("f", "z"), ("g", nil)].enumerated() {
                whole.text(name)
                whole.optionalText(note)
                whole.endRow()
                // Pieces of one row, then one piece of two rows, then one row again.
                if index == 2 || index == 3 {
                    several.text(name)
                    several.optionalText(note)
                    several.endRow()
                    if index == 3 { pieces.append(several) }
                } else {
                    pieces.append(row(name, note))
                }
            }
            let numbers: [Int64] = [7, 8, 9, 1_000_000_000_000, 12]
            let joined = PostgresCopyText.prefixingEachRow(of: pieces, with: numbers)
            #expect(joined == whole.prefixingEachRow(with: numbers))
            #expect(
                String(decoding: joined, as: UTF8.self)
                    == "7\ta\\tb\tx\n8\tc\t\\N\n9\td\\ne\ty\n1000000000000\tf\tz\n12\tg\t\\N\n")
        }

        @Test func badCopyDataFailsAndConnectionRecovers() async throws {
            let table = uniqueName("copy_bad")
            let (error, wrongKind, stillWorks) = try await withPool { pool in
                try await pool.withConnection { connection in
                    try connection.executeScript("CREATE TABLE \(table) (id int)")
                    let error = thrownPostgresError {
                        try connection.copyIn("COPY \(table) FROM STDIN", data: Array("1\nnot a number\n".utf8))
                    }
                    let wrongKind = thrownPostgresError { _ = try connection.copyOut("SELECT 1") }
                    let stillWorks = try connection.query("SELECT count(*) AS n FROM \(unsafe: table)")[0].decode("n", as: Int.self)
                    return (error, wrongKind, stillWorks)
                }
            }
            #expect(error?.sqlState == "22P02")
            #expect(wrongKind?.code == .queryFailed)
            #expect(stillWorks == 0)
        }

        @Test func copyThroughQueryIsRefusedCleanly() async throws {
            let (error, value) = try await withPool { pool in
                try await pool.withConnection { connection in
                    let error = thrownPostgresError { try connection.query("COPY (SELECT 1) TO STDOUT") }
                    let value = try connection.query("SELECT 2 AS v")[0].decode("v", as: Int.self)
                    return (error, value)
                }
            }
            #expect(error?.code == .queryFailed)
            #expect(value == 2)
        }
    }
}
