import Foundation
import Testing

/// Refunds and zero-value orders with the real binaries: `cx purchase --amount -20.00 --credits`
/// and `--paid` on a laptop, synced to the server and to a second laptop; the typed columns, the
/// SQL metrics and `cx report` count net revenue.
@Suite struct CreditNoteEndToEndTests {
    func psql(_ server: ServerProcess, _ sql: String) throws -> [String] {
        let run = try runProcess("/usr/bin/psql", [
            "host=\(server.dataDirectory)/socket dbname=cx user=cx", "-X", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", sql,
        ])
        guard run.status == 0 else { throw HarnessError("psql failed: \(run)") }
        return run.trimmed.isEmpty ? [] : run.trimmed.split(separator: "\n").map(String.init)
    }

    func fields(_ home: Home, _ id: String) throws -> [String: String] {
        try home.showJSON(id)["fields"] as? [String: String] ?? [:]
    }

    @Test func aCreditNoteAndAPaidPurchaseReachTheServerAndTheReportsCountNetRevenue() async throws {
        try await withServer { server in
            let a = try makeHome(server, user: "alice"), b = try makeHome(server, user: "bob")
            let acme = try a.ok("add", "--name", "Acme GmbH", "--territory", "north")
            let other = try a.ok("add", "--name", "Other AG", "--territory", "north")
            let first = try a.ok("purchase", acme, "--amount", "120.00", "--margin", "0.20", "--on", "2025-03-01", "--paid", "2025-03-05")
            let second = try a.ok("purchase", acme, "--amount", "80.00", "--margin", "0.20", "--on", "2025-05-01", "--paid", "2025-05-02")
            let zero = try a.ok("purchase", acme, "--amount", "0.00", "--on", "2025-06-01")
            let foreign = try a.ok("purchase", other, "--amount", "50.00", "--on", "2025-03-01", "--paid", "2025-03-01")

            // Refused before anything is written: no --credits, another customer's purchase, --due.
            let bare = try a.cx("purchase", acme, "--amount", "-20.00", "--on", "2025-04-10")
            #expect(bare.status == 65, "\(bare)")
            #expect(bare.stderr.contains("a negative amount is a credit note") && bare.stderr.contains("--credits PURCHASE_ID"), "\(bare)")
            let wrong = try a.cx("purchase", acme, "--amount", "-20.00", "--credits", String(foreign.prefix(8)))
            #expect(wrong.status == 65, "\(wrong)")
            #expect(wrong.stderr.contains("is a purchase of customer Other AG"), "\(wrong)")
            let positive = try a.cx("purchase", acme, "--amount", "20.00", "--credits", String(first.prefix(8)))
            #expect(positive.status == 65, "\(positive)")
            let due = try a.cx("purchase", acme, "--amount", "-20.00", "--credits", String(first.prefix(8)), "--due", "2025-05-01")
            #expect(due.status == 64, "\(due)")
            let edit = try a.cx("edit", second, "--set", "amount=-80.00")
            #expect(edit.status == 65, "\(edit)")

            let note = try a.ok("purchase", acme, "--amount", "-20.00", "--credits", String(first.prefix(8)), "--on", "2025-04-10", "--ref", "CN-7")
            let shown = try fields(a, note)
            #expect(shown["amount"] == "-20.00" && shown["credits"] == first)
            #expect(shown["margin"] == "0.2", "the credit note takes the margin of the purchase it credits")
            #expect(shown["due_on"] == nil, "a credit note has no due date")
            #expect(try fields(a, first)["paid_on"] == "2025-03-05")

            let listed = try a.ok("activities", acme)
            #expect(listed.contains("credit note") && listed.contains("credit note for \(first.prefix(8))"), "\(listed)")
            #expect(listed.contains("zero-value order"), "\(listed)")
            #expect(try a.ok("show", note).contains("Credit note for purchase \(first.prefix(8)): 120.00 on 2025-03-01"))
            #expect(try a.ok("show", first).contains("Credited by \(note.prefix(8)): -20.00 on 2025-04-10"))

            _ = try a.ok("sync")
            // The typed columns on the server.
            #expect(try psql(server, "SELECT amount, credits, due_on, paid_on FROM cx.activities WHERE id = '\(note)'") == ["-20.00|\(first)||"])
            #expect(try psql(server, "SELECT amount, paid_on FROM cx.activities WHERE id = '\(first)'") == ["120.00|2025-03-05"])
            #expect(try psql(server, "SELECT amount FROM cx.purchases WHERE id = '\(zero)'") == ["0.00"])

            // Net revenue for 2025: 120 + 80 + 0 − 20, the same in SQL and on both laptops.
            let sql = try psql(server, "SELECT gross_new, active, revenue_new, revenue_per_new, customer FROM cx.customer_metrics('2025-01-01', '2026-01-01')")
            #expect(sql == ["2|2|230.00|115.00|1"], "\(sql)")
            let status = try psql(server, "SELECT status, purchases_in_window, revenue_in_window, weighted_margin FROM cx.customer_status_at('2025-12-31') WHERE customer_id = '\(acme)'")
            #expect(status == ["customer|3|180.00|0.2000"], "\(status)")

            _ = try b.ok("sync")
            #expect(try fields(b, note)["credits"] == first)
            for home in [a, b] {
                let report = try #require(try home.cx("report", "--year", "2025", "--json").json() as? [String: Any])
                let metrics = try #require(report["metrics"] as? [String: Any])
                #expect(metrics["revenue_new"].map { "\($0)" } == "230.00", "\(metrics)")
                #expect(metrics["gross_new"].map { "\($0)" } == "2")
                let show = try home.ok("show", acme, "--as-of", "2025-12-31")
                #expect(show.contains("customer (classification) — 3 purchases") && show.contains("(1 credit note, net revenue 180.00)"), "\(show)")
            }
        }
    }
}
