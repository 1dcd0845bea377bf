import Testing

@testable import CXModel

/// Credit notes (a purchase with a negative amount that names, in `credits`, the purchase it
/// corrects) and zero-value orders: the record rules, and how classification, the customer-base
/// metrics, cohorts and the value model count them (docs/sql-guide.md §3–4), on hand-computed
/// books.
@Suite struct CreditNoteTests {
    static let author = Author(replica: "r", user: "u", at: Timestamp(millisecondsSinceEpoch: 0))
    static let customer = "0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f"
    static let purchase = "6f1c1c32-62d4-4c4d-9a8e-3b8c35f4a001"

    static func activity(_ fields: [String: String?], id: String = RecordID.random()) throws(RecordValidationError) -> RecordState {
        var all: [String: String?] = ["customer_id": customer, "on": "2026-03-01"]
        all.merge(fields) { $1 }
        return try RecordState.new(kind: .activity, id: id, fields: all, by: author)
    }

    static func refusal(_ fields: [String: String?], id: String = RecordID.random()) -> RecordValidationError? {
        do throws(RecordValidationError) {
            _ = try activity(fields, id: id)
            return nil
        } catch {
            return error
        }
    }

    // MARK: The record rules

    @Test func zeroValueOrdersAndCreditNotesAreAccepted() throws {
        let zero = try Self.activity(["type": "purchase", "amount": "0"])
        #expect(zero.displayedValue("amount") == "0.00")
        let note = try Self.activity(["type": "purchase", "amount": "-20", "credits": Self.purchase.uppercased()])
        #expect(note.displayedValue("amount") == "-20.00")
        #expect(note.displayedValue("credits") == Self.purchase)
        // A state written before `credits` existed has no such field and stays valid.
        try Self.activity(["type": "purchase", "amount": "120.00"]).validateComplete()
    }

    @Test func aNegativeAmountWithoutCreditsIsRefusedNamingTheField() throws {
        let error = try #require(Self.refusal(["type": "purchase", "amount": "-20.00"]))
        #expect(error.field == "amount")
        #expect(error.message == "'-20.00' is negative: only a credit note has a negative amount; set credits to the purchase it corrects")
    }

    @Test func creditsNeedsANegativeAmountOnAPurchaseAndAnotherRecord() throws {
        let positive = try #require(Self.refusal(["type": "purchase", "amount": "20.00", "credits": Self.purchase]))
        #expect(positive.field == "amount")
        #expect(positive.message.contains("a purchase that credits another has a negative amount"))
        let zero = try #require(Self.refusal(["type": "purchase", "amount": "0.00", "credits": Self.purchase]))
        #expect(zero.field == "amount")

        let touchpoint = try #require(Self.refusal(["type": "touchpoint", "channel": "call", "credits": Self.purchase]))
        #expect(touchpoint.field == "credits")
        #expect(touchpoint.message.contains("only a purchase can credit a purchase"))
        let referral = try #require(Self.refusal(["type": "referral", "referred_name": "X", "credits": Self.purchase]))
        #expect(referral.field == "credits")

        let own = RecordID.random()
        let itself = try #require(Self.refusal(["type": "purchase", "amount": "-5.00", "credits": own], id: own))
        #expect(itself.field == "credits")
        #expect(itself.message.contains("cannot credit itself"))

        #expect(throws: RecordValidationError.self) {
            try RecordState.new(kind: .customer, fields: ["name": "Acme", "credits": Self.purchase], by: Self.author)
        }
    }

    @Test func anEditThatBreaksTheRuleIsRefusedByTheRecordCheck() throws {
        var note = try Self.activity(["type": "purchase", "amount": "-20.00", "credits": Self.purchase])
        try note.set("credits", to: nil, by: Self.author)
        #expect(throws: RecordValidationError.self) { try note.validateComplete() }
        #expect(throws: RecordValidationError.self) { try note.validateCreditNote() }
        // Required fields are checked apart: the record is complete, only inconsistent.
        try note.validateRequiredFields()

        var order = try Self.activity(["type": "purchase", "amount": "20.00"])
        try order.set("amount", to: "-20.00", by: Self.author)
        #expect(throws: RecordValidationError.self) { try order.validateComplete() }
        try order.set("credits", to: Self.purchase, by: Self.author)
        try order.validateComplete()
        // A credit note turned into a touchpoint must drop `credits`.
        try order.set("type", to: "touchpoint", by: Self.author)
        try order.set("channel", to: "call", by: Self.author)
        #expect(throws: RecordValidationError.self) { try order.validateComplete() }
    }

    @Test func concurrentEditsCanMergeIntoABrokenRuleWhichTheCheckSees() throws {
        // Laptop A unsets `credits` of a credit note while laptop B, offline, lowers its amount:
        // each state alone is refused or fine, but the point is the merged state's check.
        let base = try Self.activity(["type": "purchase", "amount": "-20.00", "credits": Self.purchase])
        var a = base
        try a.set("amount", to: "20.00", by: Author(replica: "a", user: "a", at: Timestamp(millisecondsSinceEpoch: 1)))
        try a.set("credits", to: nil, by: Author(replica: "a", user: "a", at: Timestamp(millisecondsSinceEpoch: 1)))
        try a.validateComplete()
        var b = base
        try b.set("amount", to: "-30.00", by: Author(replica: "b", user: "b", at: Timestamp(millisecondsSinceEpoch: 2)))
        try b.validateComplete()
        // Merged: B's later amount (-30.00) shows, with A's unset credits.
        let merged = a.merging(b)
        #expect(merged.displayedValue("amount") == "-30.00")
        #expect(merged.displayedValue("credits") == nil)
        #expect(throws: RecordValidationError.self) { try merged.validateComplete() }
    }

    @Test func storedAndPushedStatesWithAndWithoutCreditsDecode() throws {
        let note = try Self.activity(["type": "purchase", "amount": "-20.00", "credits": Self.purchase])
        let bytes = note.jsonBytes()
        #expect(try RecordState(jsonBytes: bytes, values: .pushed) == note)
        #expect(try RecordState(jsonBytes: bytes, values: .stored) == note)
        let order = try Self.activity(["type": "purchase", "amount": "120.00"])
        #expect(try RecordState(jsonBytes: order.jsonBytes(), values: .stored) == order)
    }

    // MARK: Counting

    /// The book of the hand-computed examples (all in the first half of 2025):
    /// - a: orders 02-01 100.00 and 03-01 200.00 (margin 0.20, paid), credit note 04-01 −50.00
    ///   (margin 0.20) for the second → customer; net revenue 250.00, margin 0.20.
    /// - b: order 02-01 100.00 (paid), credit note 02-10 −100.00 for it (a full refund; the
    ///   credit note has no due date and no payment) → passer_by (one order).
    /// - c: only a zero-value order 03-01, never paid → passer_by, not bad debt (nothing owed).
    /// - d: orders 01-10 100.00 (margin 0.05) and 05-10 100.00 (margin 0.30), credit note 05-20
    ///   −100.00 (margin 0.30) for the second → margin (5 + 30 − 30) / 100 = 0.05: prospect.
    /// - e: orders 01-10 and 02-10 of 100.00 (margin 0.05), credit notes 03-01 −100.00 and 03-02
    ///   −120.00 (margin 0.05): net margin revenue −20.00 ≤ 0, no average → customer.
    /// - f: only a credit note 03-01 −10.00 → lead.
    /// - g: order 01-10 100.00 never paid (due 02-09), credit note 01-20 −100.00: the credit note
    ///   does not settle the purchase → bad_debt.
    static func book() throws -> (CustomerBook, [String: String]) {
        var states: [RecordState] = []
        var ids: [String: String] = [:]
        for key in ["a", "b", "c", "d", "e", "f", "g"] {
            let id = RecordID.random()
            ids[key] = id
            states.append(try RecordState.new(kind: .customer, id: id, fields: ["name": key], by: author))
        }
        @discardableResult
        func purchase(_ key: String, _ on: String, _ amount: String, margin: String? = nil, paid: String? = nil, credits: String? = nil) throws -> String {
            var fields: [String: String?] = ["customer_id": ids[key]!, "type": "purchase", "on": on, "amount": amount]
            fields["margin"] = margin
            fields["paid_on"] = paid
            fields["credits"] = credits
            let state = try RecordState.new(kind: .activity, fields: fields, by: author)
            states.append(state)
            return state.id
        }
        try purchase("a", "2025-02-01", "100.00", margin: "0.20", paid: "2025-02-01")
        let a2 = try purchase("a", "2025-03-01", "200.00", margin: "0.20", paid: "2025-03-01")
        try purchase("a", "2025-04-01", "-50.00", margin: "0.20", credits: a2)
        let b1 = try purchase("b", "2025-02-01", "100.00", margin: "0.20", paid: "2025-02-05")
        try purchase("b", "2025-02-10", "-100.00", margin: "0.20", credits: b1)
        try purchase("c", "2025-03-01", "0.00")
        try purchase("d", "2025-01-10", "100.00", margin: "0.05", paid: "2025-01-10")
        let d2 = try purchase("d", "2025-05-10", "100.00", margin: "0.30", paid: "2025-05-10")
        try purchase("d", "2025-05-20", "-100.00", margin: "0.30", credits: d2)
        let e1 = try purchase("e", "2025-01-10", "100.00", margin: "0.05", paid: "2025-01-10")
        let e2 = try purchase("e", "2025-02-10", "100.00", margin: "0.05", paid: "2025-02-10")
        try purchase("e", "2025-03-01", "-100.00", margin: "0.05", credits: e1)
        try purchase("e", "2025-03-02", "-120.00", margin: "0.05", credits: e2)
        try purchase("f", "2025-03-01", "-10.00", credits: RecordID.random())
        let g1 = try purchase("g", "2025-01-10", "100.00")
        try purchase("g", "2025-01-20", "-100.00", credits: g1)
        return (CustomerBook(states: states), ids)
    }

    @Test func classificationCountsOrdersAndNetRevenue() throws {
        let (book, ids) = try Self.book()
        let classifier = CustomerClassifier()
        let t = CalendarDate("2025-06-30")!
        func assess(_ key: String) -> CustomerClassifier.Assessment { classifier.assess(ids[key]!, in: book, asOf: t) }

        let a = assess("a")
        #expect(a.status == .customer)
        #expect(a.purchasesInWindow == 2 && a.creditNotesInWindow == 1)
        #expect(a.revenueInWindow == Money("250.00")!)
        #expect(a.weightedMargin == DecimalText("0.2"))
        #expect(a.reason.contains("1 credit note, net revenue 250.00"), "\(a.reason)")

        #expect(assess("b").status == .passerBy)
        #expect(assess("b").revenueInWindow == .zero)
        #expect(assess("b").latePurchases == 0, "a credit note is never unpaid")

        let c = assess("c")
        #expect(c.status == .passerBy, "a zero-value order is a purchase, and owes nothing")
        #expect(c.purchasesInWindow == 1 && c.latePurchases == 0 && c.revenueInWindow == .zero)

        let d = assess("d")
        #expect(d.status == .prospect)
        #expect(d.weightedMargin == DecimalText("0.05"))

        let e = assess("e")
        #expect(e.status == .customer, "net margin revenue ≤ 0: no margin average, not a prospect")
        #expect(e.weightedMargin == nil)
        #expect(e.revenueInWindow == Money("-20.00")!)

        #expect(assess("f").status == .lead, "a credit note alone is no purchase")

        let g = assess("g")
        #expect(g.status == .badDebt, "a credit note does not settle the purchase it credits")
        #expect(g.overdueAmount == Money("100.00")!)
        // Before the order, the credit note of f or g alone does not make a customer.
        #expect(classifier.status(of: ids["a"]!, in: book, asOf: CalendarDate("2025-01-31")!) == .lead)
    }

    @Test func metricsCountOrdersAndNetRevenueInTheCreditNotesPeriod() throws {
        let (book, _) = try Self.book()
        let half = CustomerBaseMetrics(book: book, start: CalendarDate("2025-01-01")!, end: CalendarDate("2025-07-01")!)
        #expect(half.grossNew == 6, "a–e and g; f has no order")
        #expect(half.active == 6 && half.existing == 0)
        #expect(half.baseStart == 0 && half.baseEnd == 6 && half.retained == 0 && half.netNew == 6)
        // 250 + 0 + 0 + 100 − 20 + 0.
        #expect(half.revenueNew == Money("330.00")!)
        #expect(half.revenuePerNew == Money("55.00")!)
        #expect(half.statusCounts == [.lead: 1, .badDebt: 1, .passerBy: 2, .prospect: 1, .advocate: 0, .customer: 2])

        // Q2: a's credit note (04-01) subtracts in Q2, although a ordered nothing in Q2; d ordered
        // and was credited in Q2.
        let q2 = CustomerBaseMetrics(book: book, start: CalendarDate("2025-04-01")!, end: CalendarDate("2025-07-01")!)
        #expect(q2.grossNew == 0 && q2.active == 1 && q2.existing == 1)
        #expect(q2.revenueNew == .zero)
        #expect(q2.revenueExisting == Money("-50.00")!)
        #expect(q2.revenuePerExisting == Money("-50.00")!)
        #expect(q2.baseStart == 6 && q2.baseEnd == 6 && q2.retained == 6 && q2.lost == 0)
    }

    @Test func cohortsCountOrdersAndNetRevenue() throws {
        let (book, _) = try Self.book()
        let table = CohortTable(book: book, step: .quarter, from: CalendarDate("2025-01-01")!, to: CalendarDate("2025-07-01")!)
        #expect(table.cells.count == 2)
        let q1 = table.cells[0], q2 = table.cells[1]
        #expect(q1.customers == 6 && q1.active == 6)
        // a 300 + b 0 + c 0 + d 100 + e (200 − 220) + g 0.
        #expect(q1.revenue == Money("380.00")!)
        // a −50, d 100 − 100.
        #expect(q2.periodStart == CalendarDate("2025-04-01")! && q2.revenue == Money("-50.00")!)
        #expect(q2.active == 6)
    }

    @Test func theValueModelCountsOrderDaysAndNetsCreditNotesIntoTheSpend() throws {
        let end = CalendarDate("2025-12-31")!
        func day(_ text: String) -> CalendarDate { CalendarDate(text)! }
        let orders: [(on: CalendarDate, amount: Money)] = [
            (day("2025-01-01"), Money("100.00")!), (day("2025-02-01"), Money("50.00")!), (day("2025-03-01"), .zero),
        ]
        let plain = try #require(PurchaseSummary(purchases: orders, observationEnd: end))
        #expect(plain.frequency == 2 && plain.recency == 59 && plain.age == 364)
        #expect(plain.monetary == 25)

        let credited = try #require(PurchaseSummary(purchases: orders + [(day("2025-02-01"), Money("-20.00")!)], observationEnd: end))
        #expect(credited.frequency == 2 && credited.recency == 59, "a credit note is no purchase day")
        #expect(credited.monetary == 15)

        let refundedBeyond = try #require(
            PurchaseSummary(purchases: orders + [(day("2025-03-15"), Money("-200.00")!)], observationEnd: end))
        #expect(refundedBeyond.frequency == 2 && refundedBeyond.recency == 59)
        #expect(refundedBeyond.monetary == 0, "the mean repeat spend is never below 0")

        // A credit note on or before the first purchase day leaves the repeat spend alone.
        let early = try #require(PurchaseSummary(purchases: orders + [(day("2025-01-01"), Money("-30.00")!)], observationEnd: end))
        #expect(early.monetary == 25)

        #expect(PurchaseSummary(purchases: [(day("2025-03-15"), Money("-200.00")!)], observationEnd: end) == nil)
    }
}
