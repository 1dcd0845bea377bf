import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer

/// The import's lookups (``ERPImport/probeSQL(keys:key:select:from:matching:)``) use the key's
/// index when the table has no statistics: a first load, whose rows arrive inside the
/// import's own transaction. `reference = ANY(thousands of refs)` was planned there as a scan
/// of every live row (a bitmap scan of `activities_type_on`, then a filter) for each chunk,
/// which made a 1,000,000-row load quadratic (docs/benchmarks.md, "ERP import").
@Suite(.serverDatabase) struct ImportLookupPlanTests {
    /// The plan of `sql` with `binds`, as PostgreSQL's JSON explain output.
    static func plan(_ sql: String, binds: [String], on connection: PostgresConnection) throws -> String {
        let rows = try connection.query(PostgresQuery(unsafeSQL: "EXPLAIN (FORMAT JSON) " + sql, binds: binds))
        return rows.compactMap { $0[0] }.joined()
    }

    @Test func aRefLookupProbesTheReferenceIndexInATableWithoutStatistics() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                try connection.transaction { connection in
                    try RecordStore.takeSequenceLock(on: connection)
                    // As the import: rows written in this transaction, never analysed.
                    let author = Author(replica: "import:tester", user: "import:tester", at: Timestamp(millisecondsSinceEpoch: 1_795_000_000_000))
                    let writer = RecordStore.Writer(userID: nil, userName: "import:tester", replicaID: "import:tester", scope: .unrestricted)
                    var inserts = NewRecordWrites()
                    let customer = RecordID.random()
                    for index in 0..<5_000 {
                        inserts.add(
                            try RecordState.new(
                                kind: .activity,
                                fields: ["customer_id": customer, "type": "purchase", "on": "2026-01-10", "amount": "10", "reference": "INV-\(index)"],
                                by: author), by: writer)
                    }
                    try inserts.apply(on: connection)
                    try connection.query("SET LOCAL enable_seqscan = off")

                    let refs = PostgresArrayLiteral.text((0..<3_000).map { "NEW-\($0)" })
                    let probe = ERPImport.probeSQL(
                        keys: "$1::text[]", key: "reference", select: "s.reference, s.state::text AS state", from: "cx.activities",
                        matching: "t.reference = k.reference AND NOT t.deleted AND t.reference IS NOT NULL")
                    let probePlan = try Self.plan(probe, binds: [refs], on: connection)
                    #expect(probePlan.contains("\"Index Name\": \"activities_reference\""), "\(probePlan)")
                    #expect(!probePlan.contains("activities_type_on"), "\(probePlan)")

                    // Every key found once, in id order (what the builder reads).
                    let known = PostgresArrayLiteral.text(["INV-7", "INV-4999", "NEW-1", "INV-0"])
                    let found = try connection.query(PostgresQuery(unsafeSQL: probe, binds: [known]))
                    #expect(Set(try found.map { try $0.decode("reference", as: String.self) }) == ["INV-7", "INV-4999", "INV-0"])
                    #expect(found.count == 3)
                }
            }
        }
    }
}
