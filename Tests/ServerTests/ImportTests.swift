import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer

/// `cx-server import` (ERPImport): all-or-nothing loads, idempotent on `ref`, written as the
/// importing user's server replica exactly as a push would store them.
@Suite(.serverDatabase) struct ImportTests {
    /// Parses `csv` and imports it as OS user `tester`; bad rows throw ``ImportRejected``.
    @discardableResult
    static func load(
        _ csv: String, as kind: ImportKind, dryRun: Bool = false, chunkSize: Int = 5000, on connection: PostgresConnection
    ) throws -> ImportSummary {
        let parsed = ImportFile.parse(Array(csv.utf8), as: kind)
        if parsed.problemCount > 0 { throw ImportRejected(problems: parsed.problems, count: parsed.problemCount) }
        var run = ERPImport(file: parsed.file, writer: "tester", dryRun: dryRun)
        run.chunkSize = chunkSize
        return try run.run(on: connection)
    }

    static func problems(_ body: () throws -> Void) -> [ImportProblem] {
        do {
            try body()
            return []
        } catch let rejected as ImportRejected {
            return rejected.problems
        } catch {
            return [ImportProblem(line: 0, message: "unexpected error: \(error)")]
        }
    }

    static func count(_ table: String, on connection: PostgresConnection) throws -> Int {
        Int(try connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))[0][0] ?? "") ?? -1
    }

    static func id(ofReference ref: String, in table: String, on connection: PostgresConnection) throws -> String {
        try #require(
            try connection.query(PostgresQuery(unsafeSQL: "SELECT id::text FROM \(table) WHERE reference = $1", binds: [ref])).first?[0])
    }

    static let customers = """
        ref,name,email,territory,phone,tags
        C-1,Acme GmbH,info@acme.example,north,555-0100,steel;key account
        C-2,Globex,sales@globex.example,south,,
        """

    @Test func createsThenUpdatesByRefAndARerunWritesNothing() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                let first = try Self.load(Self.customers, as: .customers, on: connection)
                #expect(first.created == 2 && first.updated == 0 && first.unchanged == 0)
                #expect(first.replica == "import:tester")
                let acmeID = try Self.id(ofReference: "C-1", in: "cx.customers", on: connection)
                let acme = try SQLWriting.state(acmeID, on: connection)
                #expect(acme.displayedValue("name") == "Acme GmbH")
                #expect(acme.displayedValue("reference") == "C-1")
                #expect(acme.tagNames == ["key account", "steel"])
                let dots = acme.fields.flatMap { $0.entries.map(\.dot) }
                #expect(dots.allSatisfy { $0.replica == "import:tester" })
                #expect(acme.fields.allSatisfy { $0.entries.allSatisfy { $0.user == "import:tester" } })

                // The replica is registered, its counter the largest dot minted; every write audited.
                let writer = try SQLWriting.rows("SELECT replica_id, counter::text AS counter FROM cx.import_writers", on: connection)
                #expect(writer.count == 1 && writer.first?["replica_id"] == "import:tester")
                let globex = try SQLWriting.state(try Self.id(ofReference: "C-2", in: "cx.customers", on: connection), on: connection)
                let allDots = dots + globex.fields.flatMap { $0.entries.map(\.dot) } + (acme.tags + globex.tags).flatMap(\.dots)
                #expect(Set(allDots).count == allDots.count, "no dot minted twice")
                #expect(writer.first?["counter"] == String(allDots.map(\.counter).max() ?? 0))
                #expect(try SQLWriting.rows("SELECT 1 FROM cx.replicas WHERE replica_id = 'import:tester'", on: connection).count == 1)
                let audit = try SQLWriting.rows("SELECT operation, replica_id, user_name FROM cx.changes ORDER BY id", on: connection)
                #expect(audit.map { $0["operation"] ?? nil } == ["insert", "insert"])
                #expect(audit.allSatisfy { $0["replica_id"] == "import:tester" && $0["user_name"] == "import:tester" })
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])

                // The same file again writes nothing at all.
                let seqBefore = try connection.query("SELECT max(seq)::text FROM cx.customers")[0][0]
                let again = try Self.load(Self.customers, as: .customers, on: connection)
                #expect(again.created == 0 && again.updated == 0 && again.unchanged == 2)
                #expect(try Self.count("cx.changes", on: connection) == 2)
                #expect(try connection.query("SELECT max(seq)::text FROM cx.customers")[0][0] == seqBefore)

                // An overlapping export: one value differs, one customer is new; only that value is written.
                let next = try Self.load(
                    """
                    ref,name,email,territory,phone
                    C-1,Acme GmbH,info@acme.example,north,555-0199
                    C-3,Initech,,east,
                    """, as: .customers, on: connection)
                #expect(next.created == 1 && next.updated == 1 && next.unchanged == 0)
                let updated = try SQLWriting.state(acmeID, on: connection)
                #expect(updated.displayedValue("phone") == "555-0199")
                #expect(updated.tagNames == ["key account", "steel"], "empty cells and absent columns leave values alone")
                let changedFields = updated.fields.filter { $0.entries != acme.register($0.name)?.entries }.map(\.name)
                #expect(changedFields == ["phone"])
                let lastAudit = try SQLWriting.rows(
                    "SELECT operation, fields::jsonb::text AS fields FROM cx.changes WHERE record_id = \(acmeID)::uuid ORDER BY id", on: connection)
                #expect(lastAudit.last?["fields"] == #"[{"to": "555-0199", "from": "555-0100", "field": "phone"}]"#)
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
            }
        }
    }

    @Test func activitiesFindTheirCustomerByRefEmailOrIdAndPaymentsMarkPurchasesPaid() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                try Self.load(Self.customers, as: .customers, on: connection)
                let acme = try Self.id(ofReference: "C-1", in: "cx.customers", on: connection)
                let globex = try Self.id(ofReference: "C-2", in: "cx.customers", on: connection)
                let summary = try Self.load(
                    """
                    ref,customer_ref,customer_email,customer_id,type,on,amount,margin,due_on,paid_on,channel,nps,note
                    INV-1,C-1,,,purchase,2026-01-10,1200.5,0.12,,,,,
                    INV-2,,SALES@globex.example,,purchase,2026-02-01,300,0.2,2026-02-15,,,,
                    ,,,\(globex),touchpoint,2026-02-03,,,,,visit,9,met the buyer
                    """, as: .activities, on: connection)
                #expect(summary.created == 3)
                let first = try SQLWriting.state(try Self.id(ofReference: "INV-1", in: "cx.activities", on: connection), on: connection)
                #expect(first.displayedValue("customer_id") == acme)
                #expect(first.displayedValue("amount") == "1200.50")
                #expect(first.displayedValue("due_on") == "2026-02-09", "due 30 days after the purchase, as cx purchase")
                let second = try SQLWriting.state(try Self.id(ofReference: "INV-2", in: "cx.activities", on: connection), on: connection)
                #expect(second.displayedValue("customer_id") == globex, "email matched without regard to case")
                #expect(second.displayedValue("due_on") == "2026-02-15")
                let visits = try SQLWriting.rows("SELECT customer_id::text AS c, nps::text AS nps FROM cx.activities WHERE type = 'touchpoint'", on: connection)
                #expect(visits.count == 1 && visits.first?["c"] == globex && visits.first?["nps"] == "9")

                let paid = try Self.load(
                    """
                    ref,paid_on
                    INV-1,2026-02-05
                    INV-2,2026-03-01
                    """, as: .payments, on: connection)
                #expect(paid.updated == 2)
                #expect(try SQLWriting.rows("SELECT reference FROM cx.activities WHERE paid_on IS NOT NULL ORDER BY reference", on: connection)
                    .map { $0["reference"] ?? nil } == ["INV-1", "INV-2"])
                let again = try Self.load("ref,paid_on\nINV-1,2026-02-05\n", as: .payments, on: connection)
                #expect(again.unchanged == 1 && again.updated == 0)
                let unknown = Self.problems { try Self.load("ref,paid_on\nINV-1,2026-02-05\nINV-9,2026-02-06\n", as: .payments, on: connection) }
                #expect(unknown == [ImportProblem(line: 3, message: "no purchase has ref 'INV-9'; a payment marks a stored purchase paid")])
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
            }
        }
    }

    @Test func aBadRowAnywhereWritesNothingAndNamesItsLineAndField() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                try Self.load(Self.customers, as: .customers, on: connection)
                let changesBefore = try Self.count("cx.changes", on: connection)
                // A bad value: found before the database is touched.
                let badValue = Self.problems {
                    try Self.load(
                        "ref,customer_ref,type,on,amount\nINV-1,C-1,purchase,2026-01-10,12\nINV-2,C-1,purchase,2026-01-11,twelve\n\"INV-3\",C-1,purchase,2026-13-01,5\n",
                        as: .activities, on: connection)
                }
                #expect(badValue.map(\.line) == [3, 4])
                #expect(badValue.first?.message.hasPrefix("amount: 'twelve' is not an amount") == true)
                #expect(badValue.last?.message == "on: '2026-13-01' is not a date (expected YYYY-MM-DD)")

                // An unknown customer in the last row, after earlier chunks were written: all rolled back.
                let unknownCustomer = Self.problems {
                    try Self.load(
                        "ref,customer_ref,type,on,amount\nINV-1,C-1,purchase,2026-01-10,12\nINV-2,C-2,purchase,2026-01-11,3\nINV-3,C-404,purchase,2026-01-12,5\n",
                        as: .activities, chunkSize: 1, on: connection)
                }
                #expect(unknownCustomer == [
                    ImportProblem(line: 4, message: "customer_ref 'C-404': no customer has this reference; import the customers first (cx-server import customers)")
                ])
                // A new record missing what its kind needs.
                let incomplete = Self.problems {
                    try Self.load("ref,customer_ref,type,on\nINV-1,C-1,purchase,2026-01-10\n", as: .activities, on: connection)
                }
                #expect(incomplete == [ImportProblem(line: 2, message: "amount: a purchase needs an amount")])
                #expect(try Self.count("cx.activities", on: connection) == 0)
                #expect(try Self.count("cx.changes", on: connection) == changesBefore)

                // Header problems and a ref twice in one file.
                #expect(Self.problems { try Self.load("ref,name,colour\nC-9,X,red\n", as: .customers, on: connection) }.first?.line == 1)
                let twice = Self.problems { try Self.load("ref,name\nC-9,X\nC-9,Y\n", as: .customers, on: connection) }
                #expect(twice == [ImportProblem(line: 3, message: "ref 'C-9' already appears on line 2; an import writes each record once")])
                // Line numbers count the physical lines of quoted cells with newlines.
                let multiline = Self.problems {
                    try Self.load("ref,name,notes,email\nC-7,X,\"two\nlines\",x@y.z\nC-8,Y,,not-an-email\n", as: .customers, on: connection)
                }
                #expect(multiline.map(\.line) == [4])
                #expect(try Self.count("cx.customers", on: connection) == 2)

                // Two live customers sharing a ref (a merge whose deletion of the duplicate never
                // reached the server): refused, naming both and the merge that settles it.
                let acme = try Self.id(ofReference: "C-1", in: "cx.customers", on: connection)
                let globex = try Self.id(ofReference: "C-2", in: "cx.customers", on: connection)
                try connection.query("SELECT cx.set_field(\(globex)::uuid, 'reference', 'C-1')")
                let shared = Self.problems { try Self.load("ref,phone\nC-1,555-0111\n", as: .customers, on: connection) }
                let (first, second) = acme < globex ? (acme, globex) : (globex, acme)
                #expect(shared.map(\.message) == [
                    "ref 'C-1' names 2 stored customers (\(first), \(second)); merge them if they are one customer (SELECT cx.merge_customers('\(first)', '\(second)'), or `cx merge`), or give them distinct references, then import again"
                ])
            }
        }
    }

    @Test func aDryRunReportsAndWritesNothing() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                let dry = try Self.load(Self.customers, as: .customers, dryRun: true, on: connection)
                #expect(dry.created == 2 && dry.dryRun)
                #expect(try Self.count("cx.customers", on: connection) == 0)
                #expect(try Self.count("cx.import_writers", on: connection) == 0)
                #expect(try Self.count("cx.replicas", on: connection) == 0)
                try Self.load(Self.customers, as: .customers, on: connection)
                let changed = try Self.load(Self.customers.replacingOccurrences(of: "555-0100", with: "555-0111"), as: .customers, dryRun: true, on: connection)
                #expect(changed.updated == 1 && changed.unchanged == 1)
                #expect(try SQLWriting.state(try Self.id(ofReference: "C-1", in: "cx.customers", on: connection), on: connection)
                    .displayedValue("phone") == "555-0100")
            }
        }
    }

    @Test func anImportConcurrentWithALaptopEditIsAConflictThatARerunDoesNotSettle() async throws {
        try await withTestDatabase { database in
            let store = RecordStore(pool: database.pool)
            let acmeID = try await database.sql { connection in
                try Self.load(Self.customers, as: .customers, on: connection)
                return try Self.id(ofReference: "C-1", in: "cx.customers", on: connection)
            }
            // The laptop holds the imported record and edits the phone offline…
            var laptop = try await database.sql { try SQLWriting.state(acmeID, on: $0) }
            try laptop.set("phone", to: "555-0222", by: Author(replica: "laptop-a", user: "alice", at: .now()))
            // …while the ERP sends another phone.
            let erp = Self.customers.replacingOccurrences(of: "555-0100", with: "555-0333")
            #expect(try await database.sql { try Self.load(erp, as: .customers, on: $0) }.updated == 1)
            _ = try await store.push([laptop], logger: TestDatabase.logger)
            let merged = try await database.sql { try SQLWriting.state(acmeID, on: $0) }
            #expect(Set(merged.register("phone")?.entries.map(\.value) ?? []) == ["555-0222", "555-0333"])
            #expect(merged.hasConflicts)
            // Running the import again leaves the conflict to a person.
            #expect(try await database.sql { try Self.load(erp, as: .customers, on: $0) }.unchanged == 2)
            #expect(try await database.sql { try SQLWriting.state(acmeID, on: $0) } == merged)
        }
    }
}
