import Foundation
import Testing

/// An edit made in SQL by the central team (`cx_editor`) reaches two laptops that edited the
/// same customer offline: the concurrent edits of one field become a conflict with every
/// candidate, the other edits merge, nothing is lost, and a resolution made in SQL ends the
/// conflict everywhere.
@Suite struct SQLWriteEndToEndTests {
    /// Runs `sql` through psql on the server's embedded database as `user`; the rows, one line
    /// each, columns separated by `|`.
    func psql(_ server: ServerProcess, _ sql: String, user: String = "cx") throws -> [String] {
        let run = try runProcess("/usr/bin/psql", [
            "host=\(server.dataDirectory)/socket dbname=cx user=\(user)", "-X", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", sql,
        ])
        guard run.status == 0 else { throw HarnessError("psql failed: \(run)") }
        return run.trimmed.isEmpty ? [] : run.trimmed.split(separator: "\n").map(String.init)
    }

    func fields(_ home: Home, _ id: String) throws -> [String: String] {
        try home.showJSON(id)["fields"] as? [String: String] ?? [:]
    }

    @Test func anSQLEditReachesTwoLaptopsThatEditedOfflineWithConflictsAndNoLoss() async throws {
        try await withServer { server in
            let a = try makeHome(server, user: "alice"), b = try makeHome(server, user: "bob")
            let id = try a.ok("add", "--name", "Acme GmbH", "--phone", "555-0100", "--territory", "north")
            _ = try a.ok("sync")
            _ = try b.ok("sync")
            _ = try psql(server, "CREATE ROLE erin LOGIN IN ROLE cx_analyst, cx_editor")

            // Offline on both laptops, while the central team edits in SQL.
            _ = try a.ok("edit", id, "--phone", "555-0101", "--set", "city=Berlin")
            _ = try b.ok("edit", id, "--phone", "555-0199", "--set", "notes=called today")
            _ = try psql(server, #"SELECT cx.set_fields('\#(id)', '{"phone": "555-0123", "segment": "key account"}')"#, user: "erin")
            let purchase = try #require(
                try psql(server, #"SELECT cx.add_activity('{"customer_id": "\#(id)", "type": "purchase", "on": "2026-03-01", "amount": "120.00"}')"#, user: "erin").first)
            let refused = try runProcess("/usr/bin/psql", [
                "host=\(server.dataDirectory)/socket dbname=cx user=erin", "-X", "-c", "UPDATE cx.customers SET phone = '1'",
            ])
            #expect(refused.status != 0 && refused.stderr.contains("permission denied"))

            #expect(try a.cx("sync").status == 3)
            #expect(try b.cx("sync").status == 3)
            #expect(try a.cx("sync").status == 3)

            let fromA = try a.cx("conflicts", "--json"), fromB = try b.cx("conflicts", "--json")
            #expect(fromA.stdout == fromB.stdout)
            let conflicts = try #require(try fromA.json() as? [[String: Any]])
            #expect(conflicts.map { $0["field"] as? String } == ["phone"])
            let candidates = try #require(conflicts.first?["candidates"] as? [[String: Any]])
            #expect(Set(candidates.compactMap { $0["value"] as? String }) == ["555-0101", "555-0199", "555-0123"])
            #expect(candidates.contains { $0["user"] as? String == "erin" && ($0["replica"] as? String)?.hasPrefix("sql:erin") == true })
            for home in [a, b] {
                let shown = try fields(home, id)
                #expect(shown["city"] == "Berlin")
                #expect(shown["notes"] == "called today")
                #expect(shown["segment"] == "key account")
                #expect(try home.ok("activities", id, "--json").contains(purchase))
            }
            let sqlView = try psql(server, "SELECT field, jsonb_array_length(candidates) FROM cx.conflicts WHERE record = '\(id)'", user: "erin")
            #expect(sqlView == ["phone|3"])

            // Resolved in SQL: every candidate is superseded on both laptops.
            _ = try psql(server, "SELECT cx.resolve('\(id)', 'phone', '555-0199')", user: "erin")
            #expect(try psql(server, "SELECT has_conflicts FROM cx.customers WHERE id = '\(id)'") == ["f"])
            #expect(try a.cx("sync").status == 0)
            #expect(try b.cx("sync").status == 0)
            for home in [a, b] {
                #expect(try fields(home, id)["phone"] == "555-0199")
                #expect(try home.cx("conflicts", "--json").trimmed == "[]")
            }
            let audit = try psql(server, "SELECT user_name, replica_id FROM cx.changes WHERE replica_id LIKE 'sql:%' ORDER BY id")
            #expect(audit.count == 3 && audit.allSatisfy { $0.hasPrefix("erin|sql:erin") })
        }
    }
}
