import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer

/// Migration 20 dropped `customers_territory`: a lookup by territory — the central team's
/// `WHERE territory = … AND NOT deleted` — is served by `customers_territory_seq`, the index
/// every scoped pull reads, instead of an index of its own that every pushed customer paid for.
@Suite(.serverDatabase) struct TerritoryIndexTests {
    @Test func aLookupByTerritoryUsesTheTerritorySequenceIndex() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                let indexes = try connection.query(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = 'cx' AND tablename = 'customers' AND indexname LIKE 'customers_territory%'"
                ).map { try $0.decode("indexname", as: String.self) }
                #expect(indexes == ["customers_territory_seq"])

                try connection.transaction { connection in
                    try RecordStore.takeSequenceLock(on: connection)
                    let author = Author(replica: "laptop-a", user: "alice", at: Timestamp(millisecondsSinceEpoch: 1_795_000_000_000))
                    var inserts = NewRecordWrites()
                    for index in 0..<2_000 {
                        inserts.add(
                            try RecordState.new(
                                kind: .customer, fields: ["name": "Customer \(index)", "territory": ["north", "south", "east", "west", "central"][index % 5]],
                                by: author),
                            by: .system())
                    }
                    try inserts.apply(on: connection)
                }
                try connection.query("ANALYZE cx.customers")
                try connection.transaction { connection in
                    try connection.query("SET LOCAL enable_seqscan = off")
                    let plan = try connection.query(
                        "EXPLAIN (FORMAT JSON) SELECT id FROM cx.customers WHERE territory = 'north' AND NOT deleted"
                    ).compactMap { $0[0] }.joined()
                    #expect(plan.contains("\"Index Name\": \"customers_territory_seq\""), "\(plan)")
                    let count = try connection.query("SELECT count(*) AS n FROM cx.customers WHERE territory = 'north' AND NOT deleted")[0]
                    #expect(try count.decode("n", as: Int.self) == 400)
                }
            }
        }
    }
}
