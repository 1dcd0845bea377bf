import CXModel
import Foundation
import Testing
@testable import CXClient
import CXSampleData

@Suite struct InsightTests {
    static let author = Fixtures.author

    static func customer(_ id: String, _ name: String, territory: String?) -> RecordState {
        try! RecordState.new(kind: .customer, id: id, fields: ["name": name, "territory": territory], by: author)
    }

    static func activity(_ customer: String, _ type: String, on: String, _ extra: [String: String?] = [:]) -> RecordState {
        var fields: [String: String?] = ["customer_id": customer, "type": type, "on": on]
        fields.merge(extra) { $1 }
        return try! RecordState.new(kind: .activity, fields: fields, by: author)
    }

    static let a = "aaaaaaaa-0000-4000-8000-000000000001"
    static let b = "bbbbbbbb-0000-4000-8000-000000000002"
    static let c = "cccccccc-0000-4000-8000-000000000003"
    static let d = "dddddddd-0000-4000-8000-000000000004"

    /// A: regular buyer since 2024 with a referral (advocate); B: new in 2025, two purchases at
    /// 5% margin (prospect); C: one purchase in 2024, unpaid (bad debt); D: lead.
    static func handMade() -> [RecordState] {
        [
            customer(a, "Acme", territory: "north"), customer(b, "Bolt", territory: "south"),
            customer(c, "Crane", territory: "north"), customer(d, "Dyno", territory: nil),
            activity(a, "purchase", on: "2024-06-01", ["amount": "100.00", "margin": "0.20", "paid_on": "2024-06-10"]),
            activity(a, "purchase", on: "2025-03-01", ["amount": "300.00", "margin": "0.20", "paid_on": "2025-03-05"]),
            activity(a, "purchase", on: "2025-11-01", ["amount": "200.00", "margin": "0.10", "paid_on": "2025-11-05"]),
            activity(a, "referral", on: "2025-05-01", ["referred_name": "Zed"]),
            activity(b, "purchase", on: "2025-02-01", ["amount": "50.00", "margin": "0.05", "paid_on": "2025-02-02"]),
            activity(b, "purchase", on: "2025-12-31", ["amount": "25.50", "margin": "0.05", "paid_on": "2025-12-31"]),
            activity(c, "purchase", on: "2024-09-01", ["amount": "80.00"]),
            activity(a, "touchpoint", on: "2025-04-01", ["channel": "call", "nps": "10"]),
            activity(b, "touchpoint", on: "2025-04-02", ["channel": "visit", "nps": "3"]),
            activity(c, "touchpoint", on: "2025-04-03", ["channel": "visit", "nps": "8"]),
            activity(d, "touchpoint", on: "2024-04-03", ["channel": "visit", "nps": "0"]),
        ]
    }

    /// Writes states into a fresh cache: the first `compactedCount` compacted into the snapshot,
    /// the rest left in the journal.
    static func cache(_ states: [RecordState], compacted compactedCount: Int, in dir: TemporaryDirectory) throws {
        let store = try Fixtures.open(dir)
        defer { store.close() }
        try store.commit(states.prefix(compactedCount).map { CacheStore.Change(state: $0, pending: false) })
        try store.compact()
        try store.commit(states.dropFirst(compactedCount).map { CacheStore.Change(state: $0, pending: true) })
    }

    func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func reportJSONHasTheContractShapeAndNumbers() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        try Self.cache(Self.handMade(), compacted: 6, in: dir)
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        let report = InsightReport(
            book: try store.customerBook(), start: CalendarDate("2025-01-01")!, end: CalendarDate("2026-01-01")!, settings: .default)
        let text = String(decoding: report.jsonBytes(), as: UTF8.self)
        #expect(text == """
            {"from":"2025-01-01","to":"2026-01-01","metrics":{"gross_new":1,"active":2,"existing":1,"base_start":2,"base_end":2,"retained":1,"lost":1,"net_new":0,"revenue_new":"75.50","revenue_existing":"500.00","revenue_per_new":"75.50","revenue_per_existing":"500.00"},"statuses":{"lead":1,"bad_debt":0,"passer_by":1,"prospect":1,"advocate":1,"customer":0},"nps":{"overall":{"responses":3,"promoters":1,"detractors":1,"nps":"0.0"},"territories":{"north":{"responses":2,"promoters":1,"detractors":0,"nps":"50.0"},"south":{"responses":1,"promoters":0,"detractors":1,"nps":"-100.0"}}}}
            """)
        let object = try json(report.jsonBytes())
        #expect(Set(object.keys) == ["from", "to", "metrics", "statuses", "nps"])
        let expected = CustomerBaseMetrics(
            book: CustomerBook(states: Self.handMade()), start: CalendarDate("2025-01-01")!, end: CalendarDate("2026-01-01")!)
        #expect(report.metrics == expected)
    }

    @Test func reportOverAGeneratedCacheMatchesTheModel() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let states = SampleBook.generate(seed: 11, customers: 150)
        try Self.cache(states, compacted: states.count * 2 / 3, in: dir)
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        var seen = 0
        try store.forEachState { _ in seen += 1 }
        #expect(seen == Set(states.map(\.id)).count)
        let book = try store.customerBook()
        let reference = CustomerBook(states: states)
        let settings = ClassificationSettings(windowDays: 180, targetMargin: DecimalText("0.15")!, graceDays: 5)
        for (from, to) in [("2025-01-01", "2026-01-01"), ("2025-07-01", "2025-10-01"), ("2024-03-15", "2026-06-30")] {
            let start = CalendarDate(from)!, end = CalendarDate(to)!
            for s in [ClassificationSettings.default, settings] {
                let report = InsightReport(book: book, start: start, end: end, settings: s)
                #expect(report.metrics == CustomerBaseMetrics(book: reference, start: start, end: end, settings: s))
            }
            let object = try json(InsightReport(book: book, start: start, end: end, settings: .default).jsonBytes())
            let metrics = try #require(object["metrics"] as? [String: Any])
            #expect(metrics.count == 12)
            #expect(metrics["revenue_new"] is String && metrics["gross_new"] is Int)
        }
    }

    @Test func reportPeriodParsing() throws {
        let today = CalendarDate("2026-11-22")!
        let year = try InsightReport.period(year: nil, from: nil, to: nil, today: today)
        #expect(year.0 == CalendarDate("2026-01-01")! && year.1 == CalendarDate("2027-01-01")!)
        let y2025 = try InsightReport.period(year: 2025, from: nil, to: nil, today: today)
        #expect(y2025.0 == CalendarDate("2025-01-01")! && y2025.1 == CalendarDate("2026-01-01")!)
        for (y, f, t) in [(Int?(2025), String?("2025-01-01"), String?(nil)), (nil, "2025-02-30", "2025-03-01"),
                          (nil, "2025-03-01", "2025-03-01"), (nil, "2025-01-01", nil), (nil, "x", "y")] {
            #expect(throws: CXError.self) { try InsightReport.period(year: y, from: f, to: t, today: today) }
            do { _ = try InsightReport.period(year: y, from: f, to: t, today: today) } catch let error as CXError {
                #expect(error.code == .usage)
            }
        }
    }

    @Test func listStatusFilterUsesEachCustomersActivities() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        try Self.cache(Self.handMade(), compacted: 7, in: dir)
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        func ids(_ wanted: CustomerStatus?, today: String = "2025-12-31") throws -> [String: CustomerStatus] {
            let filter = try StatusFilter(store: store, settings: .default, today: CalendarDate(today)!, wanted: wanted)
            var result: [String: CustomerStatus] = [:]
            try CustomerFilter().forEachMatch(in: store) { line, _ in
                if let status = filter.status(line) {
                    result[String(decoding: UnsafeBufferPointer(rebasing: line[7..<43]), as: UTF8.self)] = status
                }
            }
            return result
        }
        #expect(try ids(nil) == [Self.a: .advocate, Self.b: .prospect, Self.c: .passerBy, Self.d: .lead])
        #expect(try ids(.prospect) == [Self.b: .prospect])
        #expect(try ids(.badDebt, today: "2024-12-01") == [Self.c: .badDebt])
        #expect(try ids(.customer).isEmpty)
    }

    @Test func showJSONGainsStatusBetweenDeletedAndConflicts() throws {
        let view = RecordView.jsonBytes(Self.customer(Self.a, "Acme \"q\",\"conflicts\":", territory: "north"))
        let text = String(decoding: StatusJSON.insert(into: view, status: .advocate, reason: "2 purchases"), as: UTF8.self)
        #expect(text.hasSuffix(#""deleted":false,"status":"advocate","status_reason":"2 purchases","conflicts":[]}"#))
        let object = try json(Array(text.utf8))
        #expect(object["status"] as? String == "advocate")
        let assessment = CustomerClassifier().assess(Self.a, in: CustomerBook(states: Self.handMade()), asOf: CalendarDate("2025-12-31")!)
        let line = Describe.statusLine(assessment, terminal: Terminal(environment: ["NO_COLOR": "1"]))
        #expect(line == "  Status today: advocate (classification) — " + assessment.reason)
        #expect(line.contains("2 purchases in the last 365 days"))
    }

    @Test func classificationSettingsFromConfiguration() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let paths = Paths(configDirectory: dir.path, dataDirectory: dir.path)
        try Configuration(replicaID: "laptop-0000abcd").save(paths)
        #expect(try Configuration.load(paths)!.classificationSettings() == .default)
        try POSIX.writeAtomically(Array("""
            {"replica_id": "laptop-0000abcd", "server": null, "user": null, "window_days": 180, "target_margin": "0.125", "grace_days": 7}
            """.utf8), to: paths.configFile)
        let loaded = try #require(try Configuration.load(paths))
        #expect(try loaded.classificationSettings() == ClassificationSettings(windowDays: 180, targetMargin: DecimalText("0.125")!, graceDays: 7))
        try loaded.save(paths)  // keys survive a rewrite (e.g. by `cx init`)
        #expect(try Configuration.load(paths)! == loaded)
        for bad in [#""window_days": 0"#, #""target_margin": 1.5"#, #""target_margin": "ten""#, #""grace_days": -1"#, #""window_days": 3.5"#] {
            try POSIX.writeAtomically(Array("{\"replica_id\": \"laptop-0000abcd\", \(bad)}".utf8), to: paths.configFile)
            let configuration = try #require(try Configuration.load(paths))
            do {
                _ = try configuration.classificationSettings()
                Issue.record("\(bad) accepted")
            } catch let error as CXError {
                #expect(error.code == .dataError)
                #expect(error.message.contains("invalid"))
            }
        }
    }
}
