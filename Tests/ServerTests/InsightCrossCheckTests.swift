import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer
import CXSampleData

/// The generated book, loaded through the sync API and pulled back as a client would: the
/// Model's classification, metrics and NPS must equal the SQL functions' exactly.
@Suite(.serverDatabase) struct InsightCrossCheckTests {
    static let periods: [(String, String)] = [
        ("2024-01-01", "2025-01-01"), ("2025-01-01", "2026-01-01"), ("2026-01-01", "2027-01-01"),
        ("2025-07-01", "2026-07-01"), ("2025-03-15", "2025-03-16"), ("2023-01-01", "2024-01-01"),
    ]

    @Test func modelAndSQLAgreeOnTheGeneratedBook() async throws {
        try await withTestApp { client, database in
            let states = SampleBook.generate(seed: 11, customers: 2_000)
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

            for (from, to) in Self.periods {
                let start = CalendarDate(from)!, end = CalendarDate(to)!
                let model = CustomerBaseMetrics(book: book, start: start, end: end)
                let sql = try await database.sql { connection in
                    try connection.query("SELECT * FROM cx.customer_metrics(\(from)::date, \(to)::date)")[0]
                }
                let expected: [String: String] = [
                    "gross_new": "\(model.grossNew)", "active": "\(model.active)", "existing": "\(model.existing)",
                    "base_start": "\(model.baseStart)", "base_end": "\(model.baseEnd)", "retained": "\(model.retained)",
                    "lost": "\(model.lost)", "net_new": "\(model.netNew)",
                    "revenue_new": "\(model.revenueNew)", "revenue_existing": "\(model.revenueExisting)",
                    "revenue_per_new": "\(model.revenuePerNew)", "revenue_per_existing": "\(model.revenuePerExisting)",
                ].merging(CustomerStatus.allCases.map { ($0.rawValue, "\(model.statusCounts[$0] ?? 0)") }) { a, _ in a }
                for (column, value) in expected {
                    #expect(sql[column] == value, "\(from)…\(to) \(column): SQL \(sql[column] ?? "NULL") vs model \(value)")
                }

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
        }
    }
}
