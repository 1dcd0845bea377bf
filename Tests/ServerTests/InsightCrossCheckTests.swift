import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer
import CXSampleData

/// The generated book, loaded through the sync API and pulled back as a client would: the
/// Model's classification, metrics and NPS must equal the SQL functions' exactly. The book
/// holds credit notes and zero-value orders (``SampleBook/addingCreditNotes(to:seed:)``), so
/// net revenue and the counting of orders agree to the cent too.
@Suite(.serverDatabase) struct InsightCrossCheckTests {
    static let periods: [(String, String)] = [
        ("2024-01-01", "2025-01-01"), ("2025-01-01", "2026-01-01"), ("2026-01-01", "2027-01-01"),
        ("2025-07-01", "2026-07-01"), ("2025-03-15", "2025-03-16"), ("2023-01-01", "2024-01-01"),
    ]

    /// Every figure of `model` equals its column in the SQL `row`.
    static func expect(_ row: PostgresRow, equals model: CustomerBaseMetrics, _ context: String) {
        let expected: [String: String] = [
            "gross_new": "\(model.grossNew)", "active": "\(model.active)", "existing": "\(model.existing)",
            "base_start": "\(model.baseStart)", "base_end": "\(model.baseEnd)", "retained": "\(model.retained)",
            "lost": "\(model.lost)", "net_new": "\(model.netNew)",
            "revenue_new": "\(model.revenueNew)", "revenue_existing": "\(model.revenueExisting)",
            "revenue_per_new": "\(model.revenuePerNew)", "revenue_per_existing": "\(model.revenuePerExisting)",
        ].merging(CustomerStatus.allCases.map { ($0.rawValue, "\(model.statusCounts[$0] ?? 0)") }) { a, _ in a }
        for (column, value) in expected {
            #expect(row[column] == value, "\(context) \(column): SQL \(row[column] ?? "NULL") vs model \(value)")
        }
    }

    @Test func breakdownsAndSeriesRefuseBadArguments() async throws {
        try await withTestDatabase { database in
            for (sql, text) in [
                ("SELECT * FROM cx.customer_metrics_by('region', '2025-01-01', '2026-01-01')", "unknown dimension 'region'"),
                ("SELECT * FROM cx.customer_metrics_series('2025-01-01', '2026-01-01', interval '0 days')", "not a positive"),
                ("SELECT * FROM cx.customer_metrics_series('2025-01-01', '2026-01-01', interval '12 hours')", "not a positive"),
                ("SELECT * FROM cx.cohorts('week', '2025-01-01', '2026-01-01')", "unknown step 'week'"),
            ] {
                let error = await #expect(throws: PostgresError.self) { try await database.sql { try $0.query(PostgresQuery(unsafeSQL: sql)) } }
                #expect(error?.message.contains(text) == true, "\(sql): \(error?.message ?? "")")
                #expect(error?.sqlState == "22023")
            }
            let empty = try await database.sql {
                try $0.query("SELECT count(*) AS n FROM cx.customer_metrics_series('2026-01-01', '2025-01-01', interval '1 month')")[0]
            }
            #expect(empty["n"] == "0")
        }
    }

    @Test func modelAndSQLAgreeOnTheGeneratedBook() async throws {
        try await withTestApp { client, database in
            let states = SampleBook.addingCreditNotes(to: SampleBook.generate(seed: 11, customers: 2_000))
            let creditNotes = states.filter { $0.displayedValue("credits") != nil }
            let zeroValue = states.filter { $0.displayedValue("amount") == "0.00" }
            #expect(creditNotes.count > 500 && zeroValue.count > 100, "\(creditNotes.count) credit notes, \(zeroValue.count) zero-value orders")
            for start in stride(from: 0, to: states.count, by: 2_000) {
                let batch = Array(states[start..<min(start + 2_000, states.count)])
                let response = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: batch, limit: 1))
                #expect(response.status == .ok)
            }
            // Pull everything back, as a freshly synced client.
            var pulled: [RecordState] = []
            var cursor: String?
            while true {
                let page = try SyncResponse(
                    try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "reader", cursor: cursor, changes: [], limit: 5_000)).text)
                pulled += page.changes
                cursor = page.cursor
                if !page.hasMore { break }
            }
            #expect(pulled.count == states.count)
            let book = CustomerBook(states: pulled)
            // The credit notes count: some period's net revenue of existing customers is below
            // what their orders alone bring, and some customers' only purchases are credit notes.
            let creditedCustomers = Set(creditNotes.compactMap { $0.displayedValue("customer_id") })
            #expect(creditedCustomers.count > 300)

            for (from, to) in Self.periods {
                let start = CalendarDate(from)!, end = CalendarDate(to)!
                let model = CustomerBaseMetrics(book: book, start: start, end: end)
                let sql = try await database.sql { connection in
                    try connection.query("SELECT * FROM cx.customer_metrics(\(from)::date, \(to)::date)")[0]
                }
                Self.expect(sql, equals: model, "\(from)…\(to)")

                let (overall, byTerritory) = NetPromoterScore.compute(book: book, start: start, end: end)
                let nps = try await database.sql { connection in
                    try connection.query("SELECT territory, responses, nps::text AS nps FROM cx.nps(\(from)::date, \(to)::date)")
                        .map { ($0["territory"], $0["responses"], $0["nps"]) }
                }
                for (territory, responses, score) in nps {
                    let modelScore = territory.map { byTerritory[$0] } ?? overall
                    #expect(responses == modelScore.map { "\($0.responses)" }, "\(from) NPS responses \(territory ?? "overall")")
                    #expect(score == modelScore?.scoreText, "\(from) NPS \(territory ?? "overall")")
                }
                #expect(nps.count == (overall.responses > 0 ? byTerritory.count + 1 : 0))
            }

            // Breakdowns: every group's row and the total, as the laptop computes them.
            for dimension in MetricsDimension.allCases {
                for (from, to) in Self.periods.prefix(4) {
                    let (groups, total) = await CustomerBaseMetrics.breakdown(
                        book: book, by: dimension, start: CalendarDate(from)!, end: CalendarDate(to)!)
                    #expect(groups.count > 1, "the sample book has several \(dimension.rawValue) values")
                    let rows = try await database.sql { connection in
                        try connection.query(
                            "SELECT * FROM cx.customer_metrics_by(\(dimension.rawValue), \(from)::date, \(to)::date)")
                    }
                    #expect(rows.count == groups.count + 1)
                    let byGroup = Dictionary(rows.map { ($0["group_value"] ?? "<total>", $0) }) { a, _ in a }
                    for group in groups {
                        let row = try #require(byGroup[group.value], "\(dimension) '\(group.value)' has a row")
                        Self.expect(row, equals: group.metrics, "\(dimension) '\(group.value)' \(from)")
                    }
                    Self.expect(try #require(byGroup["<total>"]), equals: total, "\(dimension) total \(from)")
                    #expect(groups.reduce(0) { $0 + $1.metrics.active } == total.active)
                }
            }

            // Series: one row per period, from a month end (no drift), the last period cut short.
            for (from, to, step, interval) in [
                ("2024-01-31", "2025-06-15", ReportingStep.month, "1 month"),
                ("2024-02-01", "2026-11-01", .quarter, "3 months"), ("2023-01-01", "2027-01-01", .year, "1 year"),
            ] {
                let series = await CustomerBaseMetrics.series(book: book, from: CalendarDate(from)!, to: CalendarDate(to)!, every: step)
                let rows = try await database.sql { connection in
                    try connection.query("SELECT * FROM cx.customer_metrics_series(\(from)::date, \(to)::date, \(interval)::interval)")
                }
                #expect(rows.count == series.count, "\(step) series from \(from)")
                for (row, model) in zip(rows, series) {
                    #expect(row["period_start"] == model.start.description && row["period_end"] == model.end.description)
                    Self.expect(row, equals: model, "\(step) period \(model.start)")
                }
            }

            // Cohorts: every cell, by quarter and by month, from mid-period dates.
            for (step, from, to) in [(ReportingStep.quarter, "2024-02-15", "2026-07-01"), (.month, "2025-01-10", "2025-09-01")] {
                let table = CohortTable(book: book, step: step, from: CalendarDate(from)!, to: CalendarDate(to)!)
                #expect(table.cells.count > 10, "\(step) cohorts hold cells")
                let rows = try await database.sql { connection in
                    try connection.query(
                        "SELECT *, retention::text AS retention_text FROM cx.cohorts(\(step.rawValue), \(from)::date, \(to)::date)")
                }
                #expect(rows.count == table.cells.count, "\(step) cohorts")
                for (row, cell) in zip(rows, table.cells) {
                    let context = "\(step) cohort \(cell.cohortStart) period \(cell.periodStart)"
                    #expect(row["cohort_start"] == cell.cohortStart.description, "\(context)")
                    #expect(row["period_start"] == cell.periodStart.description && row["period_end"] == cell.periodEnd.description, "\(context)")
                    #expect(row["customers"] == "\(cell.customers)" && row["active"] == "\(cell.active)", "\(context)")
                    #expect(row["retention_text"] == cell.retentionText, "\(context): \(row["retention_text"] ?? "") vs \(cell.retentionText)")
                    #expect(row["revenue"] == cell.revenue.description, "\(context): \(row["revenue"] ?? "") vs \(cell.revenue)")
                }
            }

            // Every customer's status, on several dates, including period boundaries.
            let classifier = CustomerClassifier()
            for date in ["2024-06-30", "2025-01-01", "2025-12-31", "2026-07-01"] {
                let sqlStatus = try await database.sql { connection in
                    Dictionary(uniqueKeysWithValues: try connection.query(
                        "SELECT customer_id::text AS id, status FROM cx.customer_status_at(\(date)::date)"
                    ).map { (try $0.decode("id", as: String.self), try $0.decode("status", as: String.self)) })
                }
                #expect(sqlStatus.count == book.customers.count)
                var mismatches = 0
                for id in book.customers.keys where sqlStatus[id] != classifier.status(of: id, in: book, asOf: CalendarDate(date)!).rawValue {
                    mismatches += 1
                }
                #expect(mismatches == 0, "\(mismatches) statuses differ on \(date)")
            }

            // The value model (`cx-server value refresh` reads cx.purchases, `cx value` the
            // book): the same purchase summaries, credit notes netted the same way.
            let asOf = CalendarDate("2026-06-30")!
            let histories = try await database.sql { try CustomerValueStore.histories(on: $0) }
            var summaries = 0
            for history in histories {
                let fromSQL = PurchaseSummary(purchases: history.purchases.map { (on: $0.on, amount: $0.amount) }, observationEnd: asOf)
                let fromBook = PurchaseSummary(
                    purchases: (book.purchases[history.id] ?? []).map { (on: $0.on, amount: $0.amount) }, observationEnd: asOf)
                #expect(fromSQL == fromBook, "value summary of \(history.id)")
                if fromSQL != nil { summaries += 1 }
            }
            #expect(summaries > 1_000)
        }
    }
}
