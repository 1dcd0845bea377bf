import Testing

@testable import CXModel
import CXSampleData

/// Hand-computed examples of every status and every metric, with their boundaries.
@Suite struct InsightTests {
    static let author = Author(replica: "r", user: "u", at: Timestamp(millisecondsSinceEpoch: 0))

    /// A small book builder: customers by letter, activities as terse calls.
    struct BookBuilder {
        var states: [RecordState] = []
        var ids: [String: String] = [:]

        mutating func customer(_ key: String, territory: String = "north") {
            let id = RecordID.random()
            ids[key] = id
            states.append(try! RecordState.new(kind: .customer, id: id, fields: ["name": key, "territory": territory], by: InsightTests.author))
        }

        mutating func purchase(_ key: String, on: String, amount: String = "100.00", margin: String? = "0.20", due: String? = nil, paid: String? = nil) {
            var fields: [String: String?] = ["customer_id": ids[key]!, "type": "purchase", "on": on, "amount": amount]
            fields["margin"] = margin
            fields["due_on"] = due
            fields["paid_on"] = paid
            states.append(try! RecordState.new(kind: .activity, fields: fields, by: InsightTests.author))
        }

        mutating func referral(_ key: String, on: String) {
            states.append(try! RecordState.new(
                kind: .activity, fields: ["customer_id": ids[key]!, "type": "referral", "on": on, "referred_name": "X"], by: InsightTests.author))
        }

        mutating func rating(_ key: String, on: String, nps: Int) {
            states.append(try! RecordState.new(
                kind: .activity, fields: ["customer_id": ids[key]!, "type": "touchpoint", "on": on, "channel": "call", "nps": String(nps)],
                by: InsightTests.author))
        }

        var book: CustomerBook { CustomerBook(states: states) }
        func status(_ key: String, asOf date: String, settings: ClassificationSettings = .default) -> CustomerStatus {
            CustomerClassifier(settings: settings).status(of: ids[key]!, in: book, asOf: CalendarDate(date)!)
        }
    }

    @Test func leadHasNoPurchaseKnownAtT() {
        var b = BookBuilder()
        b.customer("a")
        #expect(b.status("a", asOf: "2025-06-01") == .lead)
        b.purchase("a", on: "2025-06-02", paid: "2025-06-02")
        #expect(b.status("a", asOf: "2025-06-01") == .lead, "a purchase after T is not known at T")
        #expect(b.status("a", asOf: "2025-06-02") == .passerBy)
    }

    @Test func passerByHasFewerThanTwoPurchasesInTheWindow() {
        var b = BookBuilder()
        b.customer("a")
        b.purchase("a", on: "2024-06-01", paid: "2024-06-01")
        b.purchase("a", on: "2025-06-01", paid: "2025-06-01")
        // Window (T−365, T]: on T = 2025-06-01 the purchase of 2024-06-01 is exactly 365 days old: out.
        #expect(b.status("a", asOf: "2025-06-01") == .passerBy)
        #expect(b.status("a", asOf: "2025-05-31") == .passerBy)
        // On 2025-05-31... the window is (2024-05-31, 2025-05-31]: only 2024-06-01 inside.
        b.purchase("a", on: "2025-05-30", paid: "2025-05-30")
        #expect(b.status("a", asOf: "2025-05-31") == .customer, "exactly two purchases in the window")
    }

    @Test func badDebtCountsLateAndOverduePaymentsKnownAtT() {
        var b = BookBuilder()
        b.customer("late")
        b.purchase("late", on: "2025-01-01", due: "2025-01-31", paid: "2025-02-01")
        b.purchase("late", on: "2025-02-01", paid: "2025-02-01")
        #expect(b.status("late", asOf: "2025-01-31") == .passerBy, "not yet overdue on its due date")
        #expect(b.status("late", asOf: "2025-02-01") == .badDebt, "paid one day late")
        #expect(b.status("late", asOf: "2025-02-01", settings: .init(windowDays: 365, targetMargin: .init(tenThousandths: 1000), graceDays: 1)) == .customer)

        b.customer("unpaid")
        b.purchase("unpaid", on: "2025-03-01")  // due 2025-03-31 by default
        b.purchase("unpaid", on: "2025-03-02", paid: "2025-03-02")
        #expect(b.status("unpaid", asOf: "2025-03-31") == .customer, "due today is not overdue")
        #expect(b.status("unpaid", asOf: "2025-04-01") == .badDebt)
        let assessment = CustomerClassifier().assess(b.ids["unpaid"]!, in: b.book, asOf: CalendarDate("2025-04-01")!)
        #expect(assessment.overdueAmount == Money("100.00"))
        #expect(assessment.reason.contains("100.00 overdue"))
        // Bad debt only looks at the window: a year later the old invoice is out of it.
        #expect(b.status("unpaid", asOf: "2026-03-02") == .lead || b.status("unpaid", asOf: "2026-03-02") == .passerBy)
    }

    @Test func prospectIsBelowTargetRevenueWeightedMargin() {
        var b = BookBuilder()
        b.customer("p")
        b.purchase("p", on: "2025-01-10", amount: "900.00", margin: "0.05", paid: "2025-01-10")
        b.purchase("p", on: "2025-01-11", amount: "100.00", margin: "0.50", paid: "2025-01-11")
        // (900×0.05 + 100×0.50) / 1000 = 0.095 < 0.10
        #expect(b.status("p", asOf: "2025-02-01") == .prospect)
        let assessment = CustomerClassifier().assess(b.ids["p"]!, in: b.book, asOf: CalendarDate("2025-02-01")!)
        #expect(assessment.reason == "2 purchases in the last 365 days, margin 9.5% below target 10%")

        b.customer("exact")
        b.purchase("exact", on: "2025-01-10", amount: "500.00", margin: "0.10", paid: "2025-01-10")
        b.purchase("exact", on: "2025-01-11", amount: "500.00", margin: "0.10", paid: "2025-01-11")
        #expect(b.status("exact", asOf: "2025-02-01") == .customer, "at target is not below target")

        b.customer("negative")
        b.purchase("negative", on: "2025-01-10", amount: "100.00", margin: "-0.20", paid: "2025-01-10")
        b.purchase("negative", on: "2025-01-11", amount: "100.00", margin: "0.30", paid: "2025-01-11")
        #expect(b.status("negative", asOf: "2025-02-01") == .prospect, "(−20 + 30) / 200 = 5%")

        b.customer("unknown")
        b.purchase("unknown", on: "2025-01-10", margin: nil, paid: "2025-01-10")
        b.purchase("unknown", on: "2025-01-11", margin: nil, paid: "2025-01-11")
        #expect(b.status("unknown", asOf: "2025-02-01") == .customer, "no recorded margin: not judged on margin")
    }

    @Test func advocateReferredWithinTheWindow() {
        var b = BookBuilder()
        b.customer("a")
        b.purchase("a", on: "2025-01-10", paid: "2025-01-10")
        b.purchase("a", on: "2025-01-11", paid: "2025-01-11")
        b.referral("a", on: "2025-01-12")
        #expect(b.status("a", asOf: "2025-01-11") == .customer)
        #expect(b.status("a", asOf: "2025-01-12") == .advocate)
        #expect(b.status("a", asOf: "2026-01-11") == .passerBy)
    }

    @Test func badDebtOutranksEverythingAfterIt() {
        var b = BookBuilder()
        b.customer("a")
        b.purchase("a", on: "2025-01-10", margin: "0.01", paid: "2025-01-10")
        b.purchase("a", on: "2025-01-11", margin: "0.01")
        b.referral("a", on: "2025-01-12")
        #expect(b.status("a", asOf: "2025-03-01") == .badDebt)
    }

    @Test func metricsForAPeriod() {
        var b = BookBuilder()
        // Existing customer: first purchase in 2024, buys again in 2025.
        b.customer("old")
        b.purchase("old", on: "2024-03-01", amount: "100.00", paid: "2024-03-01")
        b.purchase("old", on: "2025-03-01", amount: "50.00", paid: "2025-03-01")
        // New customers: first purchase on the period's first and last day.
        b.customer("new1")
        b.purchase("new1", on: "2025-01-01", amount: "10.00", paid: "2025-01-01")
        b.customer("new2")
        b.purchase("new2", on: "2025-12-31", amount: "10.01", paid: "2025-12-31")
        // Lost: bought in 2024 only.
        b.customer("gone")
        b.purchase("gone", on: "2024-06-01", amount: "70.00", paid: "2024-06-01")
        // Buys after the period only: not active, not new.
        b.customer("later")
        b.purchase("later", on: "2026-01-01", amount: "999.00", paid: "2026-01-01")
        // A lead.
        b.customer("lead")

        let metrics = CustomerBaseMetrics(book: b.book, start: CalendarDate("2025-01-01")!, end: CalendarDate("2026-01-01")!)
        #expect(metrics.grossNew == 2)
        #expect(metrics.active == 3)
        #expect(metrics.existing == 1)
        #expect(metrics.baseStart == 2, "old and gone bought in (2023-12-31, 2024-12-31]")
        #expect(metrics.baseEnd == 3, "old, new1, new2 bought in (2024-12-31, 2025-12-31]")
        #expect(metrics.retained == 1)
        #expect(metrics.lost == 1)
        #expect(metrics.netNew == 1)
        #expect(metrics.revenueNew == Money("20.01"))
        #expect(metrics.revenueExisting == Money("50.00"))
        #expect(metrics.revenuePerNew == Money("10.01"), "20.01 / 2 = 10.005 rounds half away from zero")
        #expect(metrics.revenuePerExisting == Money("50.00"))
        #expect(metrics.statusCounts[.lead] == 2, "'lead' and 'later' (whose purchase is after 2025-12-31)")
        #expect(metrics.statusCounts[.passerBy] == 4)
        #expect(metrics.statusCounts.values.reduce(0, +) == 6)
    }

    @Test func metricsWithZeroDivisors() {
        var b = BookBuilder()
        b.customer("lead")
        let metrics = CustomerBaseMetrics(book: b.book, start: CalendarDate("2025-01-01")!, end: CalendarDate("2026-01-01")!)
        #expect(metrics.grossNew == 0 && metrics.existing == 0)
        #expect(metrics.revenuePerNew == .zero && metrics.revenuePerExisting == .zero)
        #expect(CustomerBaseMetrics.divide(Money(cents: -5), by: 2) == Money(cents: -3))
        #expect(CustomerBaseMetrics.divide(Money(cents: 10), by: 3) == Money(cents: 3))
    }

    @Test func deletedRecordsDoNotCount() {
        var b = BookBuilder()
        b.customer("a")
        b.purchase("a", on: "2025-01-10", paid: "2025-01-10")
        var second = try! RecordState.new(
            kind: .activity, fields: ["customer_id": b.ids["a"]!, "type": "purchase", "on": "2025-01-11", "amount": "5.00"], by: Self.author)
        second.delete(by: Self.author)
        b.states.append(second)
        #expect(b.status("a", asOf: "2025-12-01") == .passerBy)
    }

    @Test func netPromoterScoreOverallAndPerTerritory() {
        var b = BookBuilder()
        b.customer("n", territory: "north")
        b.customer("s", territory: "south")
        for score in [10, 9, 8, 6] { b.rating("n", on: "2025-05-01", nps: score) }
        for score in [0, 10, 7] { b.rating("s", on: "2025-05-01", nps: score) }
        b.rating("s", on: "2026-01-01", nps: 0)  // outside the period
        let (overall, byTerritory) = NetPromoterScore.compute(book: b.book, start: CalendarDate("2025-01-01")!, end: CalendarDate("2026-01-01")!)
        #expect(overall.responses == 7 && overall.promoters == 3 && overall.detractors == 2)
        #expect(overall.scoreText == "14.3")  // 100 × 1/7
        #expect(byTerritory["north"]?.scoreText == "25.0")
        #expect(byTerritory["south"]?.scoreText == "0.0")
        let empty = NetPromoterScore.compute(book: b.book, start: CalendarDate("2020-01-01")!, end: CalendarDate("2020-02-01")!)
        #expect(empty.overall.scoreText == nil)
    }

    @Test func sampleBookIsDeterministicAndHasTheEdgeCases() {
        let states = SampleBook.generate(seed: 7, customers: 2_000)
        let again = SampleBook.generate(seed: 7, customers: 2_000)
        #expect(states.count == again.count)
        #expect(zip(states, again).allSatisfy { $0 == $1 }, "the same seed gives the same book")
        let customers = states.filter { $0.kind == .customer }
        let activities = states.filter { $0.kind == .activity }
        #expect(customers.count == 2_000)
        #expect(activities.count >= 20_000)
        #expect(customers.contains { $0.hasConflicts })
        #expect(customers.contains { $0.isDeleted })
        #expect(activities.contains { $0.isDeleted })
        #expect(activities.contains { $0.displayedValue("margin")?.hasPrefix("-") == true })
        let book = CustomerBook(states: states)
        let counts = CustomerBaseMetrics(book: book, start: CalendarDate("2025-01-01")!, end: CalendarDate("2026-01-01")!).statusCounts
        for status in CustomerStatus.allCases {
            #expect((counts[status] ?? 0) > 0, "the book has no \(status.rawValue)")
        }
    }
}

/// Periods of a series and the calendar-month arithmetic behind them.
@Suite struct ReportingPeriodTests {
    @Test func monthsAreAddedWithoutDrift() {
        let jan31 = CalendarDate("2024-01-31")!
        #expect(jan31.adding(months: 1).description == "2024-02-29")
        #expect(jan31.adding(months: 2).description == "2024-03-31")
        #expect(jan31.adding(months: 13).description == "2025-02-28")
        #expect(jan31.adding(months: -2).description == "2023-11-30")
        let periods = ReportingStep.month.periods(from: jan31, to: CalendarDate("2024-04-15")!)
        #expect(periods.map { "\($0.start)…\($0.end)" } == [
            "2024-01-31…2024-02-29", "2024-02-29…2024-03-31", "2024-03-31…2024-04-15",
        ])
        #expect(ReportingStep.year.periods(from: CalendarDate("2025-01-01")!, to: CalendarDate("2025-01-01")!).isEmpty)
        #expect(ReportingStep.quarter.periods(from: CalendarDate("2025-01-01")!, to: CalendarDate("2026-01-01")!).count == 4)
    }
}

/// Cohorts on a hand-made book: sizes, retention by the window, revenue per period.
@Suite struct CohortTableTests {
    @Test func cohortsFollowTheirCustomersThroughLaterPeriods() throws {
        let author = Author(replica: "r", user: "u", at: Timestamp(millisecondsSinceEpoch: 0))
        var states: [RecordState] = []
        func customer(_ name: String, purchases: [(String, String)]) throws {
            let id = RecordID.random()
            states.append(try RecordState.new(kind: .customer, id: id, fields: ["name": name], by: author))
            for (on, amount) in purchases {
                states.append(try RecordState.new(kind: .activity, fields: ["customer_id": id, "type": "purchase", "on": on, "amount": amount], by: author))
            }
        }
        try customer("A", purchases: [("2025-01-10", "100.00"), ("2025-02-05", "50.00")])
        try customer("B", purchases: [("2025-01-20", "10.00")])
        try customer("C", purchases: [("2025-02-14", "7.00")])
        try customer("D", purchases: [])
        let book = CustomerBook(states: states)
        let settings = ClassificationSettings(windowDays: 30, targetMargin: ClassificationSettings.default.targetMargin, graceDays: 0)
        let table = CohortTable(book: book, step: .month, from: CalendarDate("2025-01-15")!, to: CalendarDate("2025-03-01")!, settings: settings)
        #expect(table.cells.map { "\($0.cohortStart) \($0.periodStart) \($0.customers) \($0.active) \($0.retentionText) \($0.revenue)" } == [
            "2025-01-01 2025-01-01 2 2 100.0 110.00",  // A and B bought within 30 days of 01-31
            "2025-01-01 2025-02-01 2 1 50.0 50.00",  // only A within 30 days of 02-28
            "2025-02-01 2025-02-01 1 1 100.0 7.00",
        ])
    }
}
