import Foundation
import Testing

/// An ERP load (`cx-server import`) reaches two laptops that edited the same customers offline:
/// the imported values arrive everywhere, an imported value concurrent with a laptop's edit of
/// the same field becomes a conflict with both candidates, the other edits merge, nothing is
/// lost, and running the import again changes nothing.
@Suite struct ImportEndToEndTests {
    func psql(_ server: ServerProcess, _ sql: String) throws -> [String] {
        let run = try runProcess("/usr/bin/psql", [
            "host=\(server.dataDirectory)/socket dbname=cx user=cx", "-X", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", sql,
        ])
        guard run.status == 0 else { throw HarnessError("psql failed: \(run)") }
        return run.trimmed.isEmpty ? [] : run.trimmed.split(separator: "\n").map(String.init)
    }

    func write(_ text: String, _ name: String, in directory: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func fields(_ home: Home, _ id: String) throws -> [String: String] {
        try home.showJSON(id)["fields"] as? [String: String] ?? [:]
    }

    @Test func anERPLoadReachesTwoLaptopsThatEditedOfflineWithConflictsAndNoLoss() async throws {
        try await withServer { server in
            let files = NSTemporaryDirectory() + "cx-import-e2e-" + UUID().uuidString.prefix(8)
            try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: files) }
            let a = try makeHome(server, user: "alice"), b = try makeHome(server, user: "bob")

            let customers = try write(
                """
                ref,name,email,phone,territory,tags
                C-1,Acme GmbH,info@acme.example,555-0100,north,steel
                C-2,Globex,sales@globex.example,,south,
                """, "customers.csv", in: files)
            let created = try server.admin("import", "customers", customers)
            #expect(created.status == 0, "\(created)")
            #expect(created.stdout.contains("2 new, 0 updated, 0 unchanged"))
            #expect(!created.stderr.contains("["), "no progress bar when stderr is not a terminal")
            let acme = try #require(try psql(server, "SELECT id FROM cx.customers WHERE reference = 'C-1'").first)
            let globex = try #require(try psql(server, "SELECT id FROM cx.customers WHERE reference = 'C-2'").first)
            _ = try a.ok("sync")
            _ = try b.ok("sync")
            #expect(try fields(a, acme)["reference"] == "C-1")

            // Offline on both laptops, while the ERP sends a new phone, purchases and payments.
            _ = try a.ok("edit", acme, "--phone", "555-0101", "--set", "city=Berlin")
            _ = try b.ok("edit", acme, "--set", "segment=key account")
            _ = try b.ok("edit", globex, "--set", "notes=called today")
            _ = try write(
                """
                ref,name,email,phone,territory,tags
                C-1,Acme GmbH,info@acme.example,555-0123,north,steel
                C-2,Globex,sales@globex.example,,south,
                """, "customers.csv", in: files)
            let invoices = try write(
                """
                ref,customer_ref,customer_email,type,on,amount,margin
                INV-1,C-1,,purchase,2026-01-10,1200.00,0.12
                INV-2,,SALES@globex.example,purchase,2026-02-01,300.00,0.2
                """, "invoices.csv", in: files)
            let payments = try write("ref,paid_on\nINV-1,2026-02-05\n", "payments.csv", in: files)
            let badPayments = try write("ref,paid_on\nINV-1,2026-02-05\nINV-2,5 Feb 2026\n", "bad-payments.csv", in: files)

            // A dry run reports and writes nothing; a bad row fails the whole file with exit 65.
            let dry = try server.admin("import", "activities", invoices, "--dry-run")
            #expect(dry.status == 0 && dry.stdout.contains("Would import 2 activities"), "\(dry)")
            #expect(try psql(server, "SELECT count(*) FROM cx.activities") == ["0"])
            let refused = try server.admin("import", "payments", badPayments)
            #expect(refused.status == 65)
            #expect(refused.stderr.contains("bad-payments.csv:3: paid_on: '5 Feb 2026' is not a date (expected YYYY-MM-DD)"), "\(refused)")

            let updated = try server.admin("import", "customers", customers, "--json")
            #expect(updated.status == 0, "\(updated)")
            let summary = try #require(try updated.json() as? [String: Any])
            #expect(summary["created"] as? Int == 0 && summary["updated"] as? Int == 1 && summary["unchanged"] as? Int == 1)
            #expect((summary["replica"] as? String)?.hasPrefix("import:") == true)
            #expect(try server.admin("import", "activities", invoices).stdout.contains("2 new"))
            #expect(try server.admin("import", "payments", payments).stdout.contains("1 updated"))

            #expect(try a.cx("sync").status == 3)
            #expect(try b.cx("sync").status == 3)
            #expect(try a.cx("sync").status == 3)

            let fromA = try a.cx("conflicts", "--json"), fromB = try b.cx("conflicts", "--json")
            #expect(fromA.stdout == fromB.stdout)
            let conflicts = try #require(try fromA.json() as? [[String: Any]])
            #expect(conflicts.map { $0["field"] as? String } == ["phone"])
            let candidates = try #require(conflicts.first?["candidates"] as? [[String: Any]])
            #expect(Set(candidates.compactMap { $0["value"] as? String }) == ["555-0101", "555-0123"])
            #expect(candidates.contains { ($0["replica"] as? String)?.hasPrefix("import:") == true })
            for home in [a, b] {
                let shown = try fields(home, acme)
                #expect(shown["city"] == "Berlin")
                #expect(shown["segment"] == "key account")
                #expect(try fields(home, globex)["notes"] == "called today")
                let sales = try home.ok("activities", acme, "--json")
                #expect(sales.contains("INV-1") && sales.contains("2026-02-05"), "the purchase and its payment reached the laptop")
                #expect(try home.ok("activities", globex, "--json").contains("INV-2"))
            }

            // The same export again: nothing written, the conflict left to a person.
            let changesBefore = try psql(server, "SELECT count(*) FROM cx.changes")
            #expect(try server.admin("import", "customers", customers).stdout.contains("0 new, 0 updated, 2 unchanged"))
            #expect(try psql(server, "SELECT count(*) FROM cx.changes") == changesBefore)
            #expect(try psql(server, "SELECT has_conflicts FROM cx.customers WHERE id = '\(acme)'") == ["t"])
            let audit = try psql(server, "SELECT DISTINCT kind FROM cx.changes WHERE replica_id LIKE 'import:%' ORDER BY kind")
            #expect(audit == ["activity", "customer"])
        }
    }
}
