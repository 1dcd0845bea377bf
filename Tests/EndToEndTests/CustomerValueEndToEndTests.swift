import CXModel
import Foundation
import Testing
import CXSampleData

/// `cx value` after a real sync, against the Model and against `cx.customer_value` after
/// `cx-server value refresh` on the same book.
@Suite(.serialized) struct CustomerValueEndToEndTests {
    /// Every purchase 100.00: Gamma-Gamma cannot be fitted, and neither side fails — both
    /// give the purchase model's figures with mean spend, and say so.
    @Test func aBookWithUniformSpendGetsMeanSpendOnTheLaptopAndTheServer() async throws {
        let author = Author(replica: "uniform-laptop", user: "uniform", at: Timestamp(millisecondsSinceEpoch: 1_767_000_000_000))
        var rng = SeededRandomGenerator(seed: 31)
        var states: [RecordState] = []
        let start = CalendarDate("2024-06-01")!, asOf = CalendarDate("2025-12-31")!
        for index in 0..<240 {
            // Seeded ids: the fit visits customers in id order, so the book is the same every run.
            let customer = try RecordState.new(
                kind: .customer, id: RecordID.random(using: &rng), fields: ["name": "Uniform \(index)", "territory": "north"], by: author)
            states.append(customer)
            var day = start.adding(days: Int.random(in: 0...400, using: &rng))
            for _ in 0..<Int.random(in: 1...7, using: &rng) where day <= asOf {
                states.append(
                    try RecordState.new(
                        kind: .activity, id: RecordID.random(using: &rng),
                        fields: ["customer_id": customer.id, "type": "purchase", "on": day.description, "amount": "100.00"], by: author))
                day = day.adding(days: Int.random(in: 7...90, using: &rng))
            }
        }
        let expected = try CustomerValueTable(book: CustomerBook(states: states), observationEnd: asOf)
        #expect(expected.spendModel == nil, "the premise: Gamma-Gamma does not fit identical amounts")
        try await withServer { server in
            try InsightEndToEndTests().push(states, to: server)
            let home = try makeHome(server, user: "uniform")
            #expect(try home.cx("sync").status == 0)
            let json = try #require(try home.cx("value", "--as-of", asOf.description, "--json").json() as? [String: Any])
            #expect(json["spend_model"] as? String == "customer-mean")
            let parameters = try #require(json["parameters"] as? [String: Any])
            #expect(parameters["p"] is NSNull && parameters["r"] is String, "\(parameters)")
            let customers = try #require(json["customers"] as? [[String: Any]])
            #expect(customers.count == expected.rows.count && customers.allSatisfy { $0["expected_spend"] as? String == "100.00" })
            let human = try home.cx("value", "--as-of", asOf.description)
            #expect(human.status == 0 && human.stdout.contains("own mean repeat spend"), "\(human)")

            let refresh = try server.admin("value", "refresh", "--as-of", asOf.description)
            #expect(refresh.status == 0 && refresh.stdout.contains("Gamma-Gamma was not fitted"), "\(refresh)")
            let fitted = try InsightEndToEndTests().sqlCSV(
                server, "SELECT DISTINCT spend_model, p IS NULL AND q IS NULL AND v IS NULL, r IS NOT NULL FROM cx.customer_value")
            #expect(fitted == ["spend_model,?column?,?column?", "customer-mean,t,t"], "\(fitted)")
        }
    }

    @Test func laptopAndServerAgreeOnTheSampleBook() async throws {
        let states = SampleBook.generate(seed: 2025, customers: 300)
        let asOf = "2025-12-31"
        let expected = try CustomerValueTable(book: CustomerBook(states: states), observationEnd: CalendarDate(asOf)!)
        try await withServer { server in
            try InsightEndToEndTests().push(states, to: server)
            let home = try makeHome(server, user: "value")
            let sync = try home.cx("sync")
            #expect(sync.status == 0 || sync.status == 3, "\(sync)")  // the sample book has conflicts

            // The laptop: the Model's figures, as JSON and CSV.
            let run = try home.cx("value", "--as-of", asOf, "--json")
            #expect(run.status == 0, "\(run)")
            let json = try #require(try run.json() as? [String: Any])
            #expect(json["as_of"] as? String == asOf && json["horizon"] as? String == "12m" && json["horizon_days"] as? Int == 365)
            let customers = try #require(json["customers"] as? [[String: Any]])
            #expect(customers.count == expected.rows.count && customers.count > 100)
            #expect(customers.first?["customer_id"] as? String == expected.rows.first?.id)
            #expect(customers.first?["expected_value"] as? String == expected.rows.first.map { CustomerValueTable.columnValues($0)[9] })
            let parameters = try #require(json["parameters"] as? [String: String])
            #expect(parameters == Dictionary(uniqueKeysWithValues: expected.parameterValues.map { ($0.name, $0.value ?? "") }))
            #expect(json["spend_model"] as? String == "gamma-gamma")
            let csv = try home.ok("value", "--as-of", asOf, "--format", "csv").split(separator: "\n").map(String.init)
            #expect(csv.first == CustomerValueTable.columnNames.joined(separator: ","))

            // The server: the same rows in cx.customer_value.
            let refresh = try server.admin("value", "refresh", "--as-of", asOf)
            #expect(refresh.status == 0 && refresh.stdout.contains("Refreshed cx.customer_value: \(expected.rows.count) customers"), "\(refresh)")
            let sql = try InsightEndToEndTests().sqlCSV(
                server, "SELECT " + CustomerValueTable.columnNames.joined(separator: ", ") + " FROM cx.customer_value")
            #expect(sql.first == csv.first)
            #expect(sql.count == csv.count)
            #expect(sql.dropFirst().sorted() == csv.dropFirst().sorted())
            let fitted = try InsightEndToEndTests().sqlCSV(
                server, "SELECT DISTINCT as_of, horizon, horizon_days, r, alpha, a, b, p, q, v FROM cx.customer_value")
            #expect(fitted.count == 2, "one refresh: \(fitted)")
            #expect(
                fitted.last == "\(asOf),12m,365," + ["r", "alpha", "a", "b", "p", "q", "v"].map { parameters[$0] ?? "" }.joined(separator: ","))

            // cx show carries the customer's figures: fitted again with --value, and without it
            // from the models `cx value` kept (the same figures, no refit).
            let top = try #require(expected.rows.first)
            let shown = try #require(try home.cx("show", top.id, "--as-of", asOf, "--json", "--value").json() as? [String: Any])
            let value = try #require(shown["value"] as? [String: Any])
            #expect(value["expected_value"] as? String == CustomerValueTable.columnValues(top)[9])
            #expect(value["frequency"] as? Int == Int(top.summary.frequency))
            #expect(value["models_fitted_as_of"] as? String == asOf)
            #expect(shown["status"] is String && shown["conflicts"] is [Any], "existing keys stay")
            let plain = try #require(try home.cx("show", top.id, "--as-of", asOf, "--json").json() as? [String: Any])
            #expect(NSDictionary(dictionary: try #require(plain["value"] as? [String: Any])).isEqual(to: value), "the kept models give the same figures")
            let human = try home.cx("show", top.id, "--as-of", asOf, "--value")
            #expect(human.status == 0 && human.stdout.contains("Value: \(CustomerValueTable.columnValues(top)[9]) expected"), "\(human)")
            // Later, the kept models apply to the customer's history as known then; the output says when they were fitted.
            let later = try home.cx("show", top.id, "--as-of", "2026-03-31")
            #expect(later.status == 0 && later.stdout.contains("Value (models fitted as of \(asOf)): "), "\(later)")
            let topPurchases = try #require(CustomerBook(states: states).purchases[top.id])
            let topHistory = CustomerValueTable.History(id: top.id, name: "", purchases: topPurchases.map { .init(on: $0.on, amount: $0.amount) })
            let laterRow = try #require(expected.models.row(of: topHistory, observationEnd: CalendarDate("2026-03-31")!))
            #expect(later.stdout.contains("\(CustomerValueTable.columnValues(laterRow)[9]) expected"), "\(later)")
        }
    }

    @Test func aBookTooSmallToFitSaysWhatItNeeds() throws {
        let home = Home()
        _ = try home.ok("init")
        let acme = try home.ok("add", "--name", "Acme")
        _ = try home.ok("purchase", acme, "--amount", "120.00", "--on", "2025-03-01")
        _ = try home.ok("purchase", acme, "--amount", "80.00", "--on", "2025-04-01")
        let run = try home.cx("value", "--as-of", "2025-12-31")
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr.contains("1 of its 1 customers with purchases bought again") && run.stderr.contains("at least 10"), "\(run)")
        let shown = try #require(try home.cx("show", acme, "--json", "--value").json() as? [String: Any])
        #expect(shown["value"] is NSNull)
        // No models were ever fitted here: show says how to get the figures, JSON holds null.
        let plain = try #require(try home.cx("show", acme, "--json").json() as? [String: Any])
        #expect(plain["value"] is NSNull)
        let human = try home.cx("show", acme)
        #expect(human.status == 0 && human.stdout.contains("Value: none (no models fitted yet: run `cx value` once)"), "\(human)")
        #expect(try home.cx("value", "--horizon", "1y").status == 64)
        #expect(try home.cx("value", "--discount", "-0.1").status == 64)
        #expect(try home.cx("value", "--json", "--format", "csv").status == 64)
    }
}
