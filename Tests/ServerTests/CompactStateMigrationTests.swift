import CXModel
import CXPostgres
import CXSampleData
import Testing

@testable import CXServer

/// Migration 18 compacts every stored state in place, and the SQL side reads and writes both
/// forms exactly as the Model does (docs/sync-protocol.md §6).
@Suite(.serverDatabase) struct CompactStateMigrationTests {
    /// Customers covering what a state can hold: one write, edits by several replicas, field
    /// conflicts, a clear, tags, a delete concurrent with an edit, users unknown, `reference`
    /// held once and in conflict.
    static func variedCustomers() throws -> [RecordState] {
        var rng = SeededRandomGenerator(seed: 18)
        var states: [RecordState] = []
        for index in 0..<12 {
            let (left, right) = SampleCustomers.divergedPair(index: index, conflictRate: 0.5, using: &rng)
            states.append(left.merging(right))
        }
        var referenced = try Records.customer("Referenced", replica: "erp")
        try referenced.set("reference", to: "C-100", by: Records.author("erp", minute: 1))
        var once = try Records.customer("Referenced once", replica: "erp")
        try once.set("reference", to: "C-100", by: Records.author("erp", minute: 1))
        states.append(once)
        var left = referenced, right = referenced
        try left.set("reference", to: "C-200", by: Records.author("laptop-a", minute: 2))
        try right.set("reference", to: "C-300", by: Author(replica: "laptop-b", user: nil, at: Timestamp(millisecondsSinceEpoch: 1_795_000_300_000)))
        right.delete(by: Records.author("laptop-b", minute: 6))
        try left.set("phone", to: nil, by: Records.author("laptop-a", minute: 7))
        try left.addTag("vip", by: Records.author("laptop-a", minute: 8))
        states.append(left.merging(right))
        return states
    }

    @Test func storedStatesAreCompactedInPlaceAndReadTheSame() async throws {
        let states = try Self.variedCustomers()
        try await withTestDatabase(migrations: Migration.all.filter { $0.version < 18 }) { database in
            try await database.sql { connection in
                for state in states {
                    try connection.query(
                        "INSERT INTO cx.customers (id, name, seq, state) VALUES (\(state.id)::uuid, 'x', nextval('cx.change_seq'), \(state.jsonString(.expanded))::jsonb)")
                }
                let sequencesBefore = try connection.query("SELECT id::text, seq FROM cx.customers ORDER BY id").map { "\($0[0] ?? "") \($0[1] ?? "")" }
                let applied = try clusterMigrationLock.withLock { try Migrator(logger: TestDatabase.logger).migrate(connection) }
                #expect(applied == Migration.all.map(\.version).filter { $0 >= 18 })
                for state in states {
                    let row = try connection.query(
                        """
                        SELECT state::text, state = \(state.jsonString(.compact))::jsonb AS compact_as_cx_writes,
                               cx.state_expanded(state) = \(state.jsonString(.expanded))::jsonb AS expands_as_cx_writes,
                               reference
                        FROM cx.customers WHERE id = \(state.id)::uuid
                        """)[0]
                    #expect(try RecordState(jsonString: row[0] ?? "", values: .stored) == state)
                    #expect(row[1] == "t", "\(row[0] ?? "")")
                    #expect(row[2] == "t")
                    #expect(row[3] == state.displayedValue("reference"))
                }
                #expect(try connection.query("SELECT id::text, seq FROM cx.customers ORDER BY id").map { "\($0[0] ?? "") \($0[1] ?? "")" } == sequencesBefore,
                        "the same states: nobody needs to pull them again")
                #expect(try connection.query("SELECT count(*) FROM cx.customers WHERE NOT state ? 'v'")[0][0] == "0")
            }
        }
    }

    @Test func bothFormsConvertBothWaysAndTheStateFunctionsReadBoth() async throws {
        let states = try Self.variedCustomers()
        try await withTestDatabase { database in
            try await database.sql { connection in
                for state in states {
                    let (compact, expanded) = (state.jsonString(.compact), state.jsonString(.expanded))
                    let row = try connection.query(
                        """
                        SELECT cx.state_compacted(\(expanded)::jsonb) = \(compact)::jsonb,
                               cx.state_expanded(\(compact)::jsonb) = \(expanded)::jsonb,
                               cx.state_compacted(\(compact)::jsonb) = \(compact)::jsonb,
                               cx.state_expanded(\(expanded)::jsonb) = \(expanded)::jsonb,
                               cx.state_reference(\(compact)::jsonb) IS NOT DISTINCT FROM cx.state_reference(\(expanded)::jsonb)
                        """)[0]
                    #expect((0..<5).map { row[$0] } == Array(repeating: "t", count: 5), "\(state.id)")
                    for form in [StateFormat.compact, .expanded] {
                        let differences = try SQLWriting.stateFunctionDifferences(state, format: form, on: connection)
                        #expect(differences == [], "\(form)")
                    }
                }
            }
        }
    }

    @Test func anExpandedStateWrittenByHandIsStoredCompact() async throws {
        let customer = try Records.customer("By hand")
        try await withTestDatabase { database in
            try await database.sql { connection in
                try connection.query(
                    "INSERT INTO cx.customers (id, name, seq, state) VALUES (\(customer.id)::uuid, 'By hand', nextval('cx.change_seq'), \(customer.jsonString(.expanded))::jsonb)")
                #expect(try connection.query("SELECT state = \(customer.jsonString(.compact))::jsonb FROM cx.customers WHERE id = \(customer.id)::uuid")[0][0] == "t")
                try connection.query("UPDATE cx.customers SET state = \(customer.jsonString(.expanded))::jsonb WHERE id = \(customer.id)::uuid")
                #expect(try connection.query("SELECT state ? 'v' FROM cx.customers WHERE id = \(customer.id)::uuid")[0][0] == "t")
            }
        }
    }
}
