import CXModel
import CXPostgres
import Testing

@testable import CXServer

/// Migration 19 (lean audit rows): the audit trail written before it reads the same after it,
/// in `cx.changes` and in `cx.field_changes`; the column, index and constraint are what the
/// migration says; and writes after it are audited as before.
@Suite(.serverDatabase) struct LeanAuditMigrationTests {
    /// Every changed field of the audit trail, in write order: change id, field, from, to.
    static func fieldChanges(on connection: PostgresConnection) throws -> [[String?]] {
        try connection.query(
            #"SELECT change_id::text, field, "from", "to" FROM cx.field_changes ORDER BY change_id, field"#
        ).map(\.values)
    }

    @Test func auditRowsReadTheSameAfterTheMigrationAndNewWritesAreAudited() async throws {
        try await withTestDatabase(migrations: Migration.all.filter { $0.version < 19 }) { database in
            try await database.sql { connection in
                let customer = try #require(
                    try connection.query(#"SELECT cx.add_customer('{"name": "Acme GmbH", "phone": "555-0100"}') AS id"#)[0][0])
                try connection.query("SELECT cx.set_field(\(customer)::uuid, 'phone', '555-0199')")
                let changesBefore = try Self.fieldChanges(on: connection)
                let fieldsBefore = try connection.query("SELECT id::text, fields::text FROM cx.changes ORDER BY id").map(\.values)
                #expect(changesBefore.count == 3, "name and phone inserted, then phone changed")

                let applied = try clusterMigrationLock.withLock { try Migrator(logger: TestDatabase.logger).migrate(connection) }
                #expect(applied == Migration.all.map(\.version).filter { $0 >= 19 })

                // The same rows, the same text (jsonb's printing, kept verbatim by json).
                #expect(try Self.fieldChanges(on: connection) == changesBefore)
                #expect(try connection.query("SELECT id::text, fields::text FROM cx.changes ORDER BY id").map(\.values) == fieldsBefore)
                #expect(try connection.query("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'cx.changes'::regclass AND attname = 'fields'")[0][0] == "json")
                let index = try #require(try connection.query("SELECT indexdef FROM pg_indexes WHERE schemaname = 'cx' AND indexname = 'changes_changed_at'")[0][0])
                #expect(index.contains("USING brin (changed_at)"), "\(index)")
                #expect(try connection.query("SELECT count(*)::text FROM pg_constraint WHERE conrelid = 'cx.changes'::regclass AND contype = 'f'")[0][0] == "0")

                // A write after the migration is audited, and the analyst role reads the view.
                try connection.query("SELECT cx.set_field(\(customer)::uuid, 'phone', '555-0200')")
                let after = try Self.fieldChanges(on: connection)
                #expect(after.count == changesBefore.count + 1)
                #expect(after.last?[1...] == ["phone", "555-0199", "555-0200"])
                let analystRows = try connection.transaction { connection in
                    try connection.query("SET LOCAL ROLE cx_analyst")
                    return try connection.query("SELECT count(*)::text FROM cx.field_changes WHERE record_id = \(customer)::uuid")[0][0]
                }
                #expect(analystRows == "4")
            }
        }
    }
}
