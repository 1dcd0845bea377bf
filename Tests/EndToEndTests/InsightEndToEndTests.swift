import CXModel
import Foundation
import Testing
import CXSampleData

/// `cx report` after a real sync, against the Model's definitions and the server's SQL.
@Suite(.serialized) struct InsightEndToEndTests {
    static let periods = [("2025-01-01", "2026-01-01"), ("2025-07-01", "2025-10-01"), ("2024-06-15", "2026-03-01")]

    /// Pushes states with `POST /v1/sync` in batches (curl, so no FoundationNetworking).
    func push(_ states: [RecordState], to server: ServerProcess) throws {
        let dir = NSTemporaryDirectory() + "cx-e2e-push-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var start = 0
        while start < states.count {
            let batch = states[start..<min(start + 400, states.count)]
            var body = Array(#"{"replica_id":"seeder-0000abcd","cursor":null,"limit":1,"changes":["#.utf8)
            for (index, state) in batch.enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                body.append(contentsOf: state.jsonBytes())
            }
            body.append(contentsOf: Array("]}".utf8))
            try Data(body).write(to: URL(fileURLWithPath: dir + "/body.json"))
            let run = try runProcess("/usr/bin/curl", [
                "-sS", "-o", dir + "/reply.json", "-w", "%{http_code}", "-X", "POST",
                "-H", "Authorization: Bearer \(server.adminToken)", "-H", "Content-Type: application/json",
                "--data-binary", "@" + dir + "/body.json", server.url + "/v1/sync",
            ])
            let reply = (try? String(contentsOfFile: dir + "/reply.json", encoding: .utf8)) ?? ""
            guard run.trimmed == "200" else { throw HarnessError("push failed: \(run) \(reply.prefix(500))") }
            let object = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any]
            let rejected = object?["rejected"] as? [Any] ?? []
            guard rejected.isEmpty else { throw HarnessError("push rejected: \(rejected.prefix(3))") }
            start += batch.count
        }
    }

    /// One row of `cx.customer_metrics(from, to)` through psql, column name → text.
    func sqlMetrics(_ server: ServerProcess, _ from: String, _ to: String) throws -> [String: String]? {
        let socket = server.dataDirectory + "/socket"
        guard FileManager.default.fileExists(atPath: socket) else { return nil }
        let run = try runProcess("/usr/bin/psql", [
            "host=\(socket) dbname=cx user=cx", "-X", "-A", "-F", "|", "-P", "footer=off", "-v", "ON_ERROR_STOP=1",
            "-c", "SELECT * FROM cx.customer_metrics('\(from)','\(to)')",
        ])
        guard run.status == 0 else { throw HarnessError("psql failed: \(run)") }
        let lines = run.trimmed.split(separator: "\n").map(String.init)
        guard lines.count == 2 else { throw HarnessError("psql returned \(run.stdout)") }
        let names = lines[0].split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let values = lines[1].split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        return Dictionary(uniqueKeysWithValues: zip(names, values))
    }

    @Test func reportMatchesTheModelAndTheServerAfterSync() async throws {
        let states = SampleBook.generate(seed: 2025, customers: 300)
        let book = CustomerBook(states: states)
        try await withServer { server in
            try push(states, to: server)
            let home = try makeHome(server, user: "insight")
            let sync = try home.cx("sync")
            #expect(sync.status == 0 || sync.status == 3, "\(sync)")  // the sample book has conflicts
            for (from, to) in Self.periods {
                let start = CalendarDate(from)!, end = CalendarDate(to)!
                let expected = CustomerBaseMetrics(book: book, start: start, end: end)
                let arguments = from == "2025-01-01" && to == "2026-01-01" ? ["report", "--json", "--year", "2025"] : ["report", "--json", "--from", from, "--to", to]
                let run = try home.cx(arguments)
                #expect(run.status == 0, "\(run)")
                let object = try #require(try run.json() as? [String: Any])
                #expect(object["from"] as? String == from && object["to"] as? String == to)
                let metrics = try #require(object["metrics"] as? [String: Any])
                let model: [String: String] = [
                    "gross_new": "\(expected.grossNew)", "active": "\(expected.active)", "existing": "\(expected.existing)",
                    "base_start": "\(expected.baseStart)", "base_end": "\(expected.baseEnd)", "retained": "\(expected.retained)",
                    "lost": "\(expected.lost)", "net_new": "\(expected.netNew)", "revenue_new": expected.revenueNew.description,
                    "revenue_existing": expected.revenueExisting.description, "revenue_per_new": expected.revenuePerNew.description,
                    "revenue_per_existing": expected.revenuePerExisting.description,
                ]
                #expect(metrics.count == model.count)
                for (name, value) in model {
                    let reported = metrics[name].map { "\($0)" }
                    #expect(reported == value, "\(name) \(from)–\(to): cx \(reported ?? "nil"), model \(value)")
                }
                #expect(expected.active > 0)
                let statuses = try #require(object["statuses"] as? [String: Int])
                for status in CustomerStatus.allCases {
                    #expect(statuses[status.rawValue] == expected.statusCounts[status], "\(status) \(from)–\(to)")
                }
                let nps = try #require((object["nps"] as? [String: Any])?["overall"] as? [String: Any])
                let expectedNPS = NetPromoterScore.compute(book: book, start: start, end: end).overall
                #expect(nps["responses"] as? Int == expectedNPS.responses)
                #expect(nps["nps"] as? String == expectedNPS.scoreText)

                // The server's SQL on the same data.
                let sql = try #require(try sqlMetrics(server, from, to), "no database socket in \(server.dataDirectory)")
                for (name, value) in model {
                    let server = sql[name].flatMap { Decimal(string: $0) }
                    #expect(server == Decimal(string: value), "\(name) \(from)–\(to): sql \(sql[name] ?? "nil"), cx \(value)")
                }
                for status in CustomerStatus.allCases {
                    #expect(sql[status.rawValue].flatMap { Int($0) } == statuses[status.rawValue], "sql \(status) \(from)–\(to)")
                }
            }
        }
    }

    /// `query`'s result through `psql --csv` (header row first; NULL empty, '' as `""`).
    func sqlCSV(_ server: ServerProcess, _ query: String) throws -> [String] {
        let socket = server.dataDirectory + "/socket"
        let run = try runProcess("/usr/bin/psql", ["host=\(socket) dbname=cx user=cx", "-X", "--csv", "-v", "ON_ERROR_STOP=1", "-c", query])
        guard run.status == 0 else { throw HarnessError("psql failed: \(run)") }
        return run.trimmed.split(separator: "\n").map(String.init)
    }

    @Test func breakdownsSeriesAndCohortsMatchTheServersSQL() async throws {
        let states = SampleBook.generate(seed: 77, customers: 300)
        try await withServer { server in
            try push(states, to: server)
            let home = try makeHome(server, user: "manager-view")
            let sync = try home.cx("sync")
            #expect(sync.status == 0 || sync.status == 3, "\(sync)")
            func cxCSV(_ arguments: String...) throws -> [String] {
                let run = try home.cx(arguments + ["--format", "csv"])
                #expect(run.status == 0, "\(run)")
                return run.trimmed.split(separator: "\n").map(String.init)
            }
            for dimension in ["territory", "segment", "owner"] {
                let laptop = try cxCSV("report", "--year", "2025", "--by", dimension)
                let sql = try sqlCSV(server, "SELECT * FROM cx.customer_metrics_by('\(dimension)', '2025-01-01', '2026-01-01')")
                #expect(laptop.first == sql.first, "the same columns")
                #expect(laptop.count > 3, "\(dimension): several groups")
                #expect(laptop.sorted() == sql.sorted(), "\(dimension): \(laptop) vs \(sql)")
            }
            let series = try cxCSV("report", "--from", "2024-01-31", "--to", "2025-06-15", "--every", "month")
            #expect(series.count == 1 + 17)
            #expect(series == (try sqlCSV(server, "SELECT * FROM cx.customer_metrics_series('2024-01-31', '2025-06-15', interval '1 month')")))
            let cohorts = try cxCSV("cohorts", "--by", "quarter", "--from", "2024-02-15", "--to", "2026-01-01")
            #expect(cohorts.count > 10)
            #expect(cohorts == (try sqlCSV(server, "SELECT * FROM cx.cohorts('quarter', '2024-02-15', '2026-01-01')")))

            // The JSON rows carry the same figures; the human table names the total.
            let json = try #require(try home.cx("report", "--year", "2025", "--by", "territory", "--json").json() as? [[String: Any]])
            let total = try #require(json.last)
            #expect(total["group_value"] is NSNull)
            let plain = try #require(try home.cx("report", "--year", "2025", "--json").json() as? [String: Any])
            #expect((plain["metrics"] as? [String: Any])?["active"] as? Int == total["active"] as? Int)
            let table = try home.cx("report", "--year", "2025", "--by", "territory")
            #expect(table.status == 0 && table.stdout.contains("(total)") && table.stdout.contains("GROUP_VALUE"), "\(table)")
            #expect(try home.cx("report", "--by", "territory", "--every", "month").status == 64)
            #expect(try home.cx("report", "--by", "region").status == 64)
            #expect(try home.cx("cohorts", "--by", "week").status == 64)
        }
    }

    @Test func asOfLooksAtTheBookAsItStoodOnADay() throws {
        let home = Home()
        _ = try home.ok("init")
        let late = try home.ok("add", "--name", "Late Payer")
        let purchase = try home.ok("purchase", late, "--amount", "100.00", "--margin", "0.20", "--on", "2025-01-10", "--due", "2025-02-09")
        _ = try home.ok("paid", purchase, "--on", "2025-06-01")
        // On 2025-03-31 the invoice was overdue: bad debt then; before the purchase, a lead.
        let then = try #require(try home.cx("list", "--status", "bad_debt", "--as-of", "2025-03-31", "--json").json() as? [[String: Any]])
        #expect(then.map { $0["id"] as? String } == [late])
        let before = try #require(try home.cx("list", "--status", "bad_debt", "--as-of", "2024-12-31", "--json").json() as? [[String: Any]])
        #expect(before.isEmpty)
        let leads = try #require(try home.cx("list", "--status", "lead", "--as-of", "2024-12-31", "--json").json() as? [[String: Any]])
        #expect(leads.map { $0["id"] as? String } == [late])
        let shown = try home.cx("show", late, "--as-of", "2025-03-31")
        #expect(shown.status == 0 && shown.stdout.contains("Status on 2025-03-31: bad_debt"), "\(shown)")
        let json = try #require(try home.cx("show", late, "--as-of", "2025-03-31", "--json").json() as? [String: Any])
        #expect(json["status"] as? String == "bad_debt")
        // The report's default period is the as-of date's year; statuses as of its last day.
        let report = try #require(try home.cx("report", "--as-of", "2025-03-31", "--json").json() as? [String: Any])
        #expect(report["from"] as? String == "2025-01-01" && report["to"] as? String == "2026-01-01")
        #expect(try home.cx("show", late, "--as-of", "2025-02-30").status == 64)
        #expect(try home.cx("list", "--as-of", "0025-01-01").status == 64)
    }

    @Test func activitiesLeaveTheLaptopInOneExport() throws {
        let home = Home()
        _ = try home.ok("init")
        let acme = try home.ok("add", "--name", "Acme")
        let globex = try home.ok("add", "--name", "Globex")
        let first = try home.ok("purchase", acme, "--amount", "120.00", "--margin", "0.10", "--on", "2025-03-01")
        _ = try home.ok("paid", first, "--on", "2025-03-20")
        _ = try home.ok("touch", globex, "--channel", "call", "--nps", "9", "--on", "2025-02-01")
        let csv = try home.ok("export", "--activities")
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines.first == "id,customer_id,type,on,amount,margin,due_on,paid_on,reference,referred_customer_id,referred_name,note,channel,nps,credits,tags")
        #expect(lines.count == 3, "\(csv)")
        #expect(lines[1].contains(globex) && lines[1].contains(",touchpoint,2025-02-01,") && lines[1].contains(",call,9,"))
        #expect(lines[2].hasPrefix(first + "," + acme + ",purchase,2025-03-01,120.00,0.1") && lines[2].contains(",2025-03-20,"), "\(lines[2])")
        let json = try #require(try home.cx("export", "--activities", "--format", "json").json() as? [[String: Any]])
        #expect(json.map { $0["kind"] as? String } == ["activity", "activity"])

        // --format on list and activities: the same columns, one customer's rows.
        let acmeRows = try home.ok("activities", acme, "--format", "csv").split(separator: "\n").map(String.init)
        #expect(acmeRows.first == lines.first && acmeRows.count == 2 && acmeRows[1] == lines[2], "\(acmeRows)")
        let customers = try home.ok("list", "--format", "csv").split(separator: "\n").map(String.init)
        #expect(customers.first == "id,name,company,email,phone,address,city,country,territory,owner,segment,notes,reference,tags")
        #expect(customers.count == 3 && customers[1].hasPrefix(acme + ",Acme,"), "\(customers)")
        let withStatus = try home.cx(["list", "--status", "lead", "--format", "csv"], environment: ["CX_TODAY": "2025-12-31"])
        #expect(withStatus.stdout.split(separator: "\n").map(String.init) == [customers[0] + ",status", customers[2] + ",lead"], "\(withStatus)")
        #expect(try home.cx("list", "--json", "--format", "csv").status == 64)
    }

    @Test func listStatusShowStatusAndReportErrorsOnTheRealBinary() throws {
        let home = Home()
        _ = try home.ok("init")
        let today = ["CX_TODAY": "2025-12-31"]
        let regular = try home.ok("add", "--name", "Regular", "--territory", "north")
        let single = try home.ok("add", "--name", "Single", "--territory", "north")
        let lead = try home.ok("add", "--name", "Lead", "--territory", "south")
        for (on, paid) in [("2025-03-01", "2025-03-10"), ("2025-09-01", "2025-09-05")] {
            let purchase = try home.ok("purchase", regular, "--amount", "100.00", "--margin", "0.20", "--on", on)
            _ = try home.ok("paid", purchase, "--on", paid)
        }
        _ = try home.ok("purchase", single, "--amount", "40.00", "--margin", "0.20", "--on", "2025-12-20")

        let customers = try #require(try home.cx(["list", "--status", "customer", "--json"], environment: today).json() as? [[String: Any]])
        #expect(customers.map { $0["id"] as? String } == [regular])
        #expect(customers.first?["status"] as? String == "customer")
        let northPassers = try #require(
            try home.cx(["list", "--status", "passer_by", "--territory", "north", "--json"], environment: today).json() as? [[String: Any]])
        #expect(northPassers.map { $0["id"] as? String } == [single])
        let leads = try home.cx(["list", "--status", "lead"], environment: today)
        #expect(leads.status == 0 && leads.stdout.contains("Lead") && !leads.stdout.contains("Regular") && leads.stdout.contains("STATUS"))
        #expect(try home.cx(["list", "--status", "vip"], environment: today).status == 64)
        #expect(try home.cx(["list", "--status", "advocate"], environment: today).stdout.isEmpty)

        let shown = try home.cx(["show", regular], environment: today)
        #expect(shown.stdout.contains("Status today: customer (classification) — 2 purchases in the last 365 days, margin 20%, paid on time"), "\(shown)")
        let json = try #require(try home.cx(["show", lead, "--json"], environment: today).json() as? [String: Any])
        #expect(json["status"] as? String == "lead" && json["status_reason"] as? String == "no purchase yet")

        // Settings from the configuration file: a 30-day window makes Regular a passer-by.
        let config = home.path + "/config.json"
        var text = try String(contentsOfFile: config, encoding: .utf8)
        text = text.replacingOccurrences(of: "\n}", with: ",\n  \"window_days\": 30\n}")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let narrow = try #require(try home.cx(["show", regular, "--json"], environment: today).json() as? [String: Any])
        #expect(narrow["status"] as? String == "passer_by")
        try text.replacingOccurrences(of: "\"window_days\": 30", with: "\"target_margin\": \"lots\"").write(toFile: config, atomically: true, encoding: .utf8)
        let bad = try home.cx(["report"], environment: today)
        #expect(bad.status == 65 && bad.stderr.contains("target_margin"), "\(bad)")

        #expect(try home.cx("report", "--from", "2025-02-30", "--to", "2025-03-01").status == 64)
        #expect(try home.cx("report", "--from", "2025-03-01", "--to", "2025-03-01").status == 64)
        #expect(try home.cx("report", "--year", "2025", "--from", "2025-03-01").status == 64)
    }
}
