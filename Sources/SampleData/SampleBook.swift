import CXModel

/// A deterministic, realistic book of customers and activities for tests, benchmarks and demos:
/// by default 2,000 customers and about 20,000 activities over 2024–2026, with the edge cases
/// classification and metrics must get right — leads, customers with exactly two purchases,
/// purchases on period boundaries, late and unpaid invoices, negative-margin deals, purchases
/// without a margin, referrals, NPS ratings, deleted customers and activities, and records with
/// unresolved conflicts (concurrent edits from two laptops).
public enum SampleBook {
    static let territories = ["north", "south", "east", "west", "central"]
    /// Dates the generator deliberately puts purchases on: period boundaries.
    static let boundaryDates = ["2024-01-01", "2024-12-31", "2025-01-01", "2025-06-30", "2025-07-01", "2025-12-31", "2026-01-01", "2026-12-31"]

    /// Generates the book; the same seed always yields the same states.
    public static func generate(seed: UInt64 = 2026, customers customerCount: Int = 2_000) -> [RecordState] {
        var rng = SeededRandomGenerator(seed: seed)
        let first = CalendarDate("2024-01-01")!, last = CalendarDate("2026-12-31")!
        let span = first.days(until: last)
        var clockMillis: Int64 = 1_704_067_200_000
        func author(_ replica: String) -> Author {
            clockMillis += 1000
            return Author(replica: replica, user: String(replica.split(separator: "-")[0]), at: Timestamp(millisecondsSinceEpoch: clockMillis))
        }
        func randomDate() -> CalendarDate { first.adding(days: Int.random(in: 0...span, using: &rng)) }
        func money(_ range: ClosedRange<Int64>) -> String { Money(cents: Int64.random(in: range, using: &rng)).description }

        var states: [RecordState] = []
        var customerIDs: [String] = []
        for index in 0..<customerCount {
            let territory = territories[index % territories.count]
            let rep = "rep\(index % 12)"
            let replica = "\(rep)-laptop"
            let id = RecordID.random(using: &rng)
            customerIDs.append(id)
            var customer = try! RecordState.new(
                kind: .customer, id: id,
                fields: [
                    "name": "Customer \(index)", "company": "Company \(index) Ltd", "territory": territory, "owner": rep,
                    "email": "buyer\(index)@example.com", "segment": ["smb", "mid-market", "enterprise"][index % 3],
                ],
                by: author(replica))

            // Profiles: 10% leads, 15% single purchase, 10% exactly two, the rest regular buyers.
            let profile = Int.random(in: 0..<100, using: &rng)
            let purchaseCount: Int
            switch profile {
            case 0..<10: purchaseCount = 0
            case 10..<25: purchaseCount = 1
            case 25..<35: purchaseCount = 2
            default: purchaseCount = Int.random(in: 4...16, using: &rng)
            }
            let payer = Int.random(in: 0..<100, using: &rng)  // < 12: pays late sometimes; < 5: leaves invoices unpaid
            let lowMargin = Int.random(in: 0..<100, using: &rng) < 20
            for purchaseIndex in 0..<purchaseCount {
                let on = purchaseIndex == 0 && index % 7 == 0
                    ? CalendarDate(boundaryDates[index % boundaryDates.count])!
                    : randomDate()
                var fields: [String: String?] = [
                    "customer_id": id, "type": "purchase", "on": on.description, "amount": money(1_000...500_000),
                    "reference": "INV-\(index)-\(purchaseIndex)",
                ]
                let marginRoll = Int.random(in: 0..<100, using: &rng)
                if marginRoll < 5 {
                    fields["margin"] = nil  // no margin recorded
                } else if lowMargin || marginRoll < 10 {
                    fields["margin"] = DecimalText(tenThousandths: Int64.random(in: -2_000...900, using: &rng)).description
                } else {
                    fields["margin"] = DecimalText(tenThousandths: Int64.random(in: 800...4_000, using: &rng)).description
                }
                let due = on.adding(days: [14, 30, 30, 30, 60][Int.random(in: 0..<5, using: &rng)])
                if purchaseIndex % 3 == 0 { fields["due_on"] = due.description }
                let effectiveDue = purchaseIndex % 3 == 0 ? due : on.adding(days: 30)
                if payer < 5 && purchaseIndex == purchaseCount - 1 {
                    // Unpaid.
                } else if payer < 12 && purchaseIndex % 2 == 0 {
                    fields["paid_on"] = effectiveDue.adding(days: Int.random(in: 1...60, using: &rng)).description
                } else {
                    fields["paid_on"] = on.adding(days: Int.random(in: 0...effectiveDue.dayNumber - on.dayNumber, using: &rng)).description
                }
                var purchase = try! RecordState.new(kind: .activity, id: RecordID.random(using: &rng), fields: fields, by: author(replica))
                if Int.random(in: 0..<200, using: &rng) == 0 {
                    purchase.delete(by: author(replica))  // a purchase entered by mistake
                }
                states.append(purchase)
            }
            // Referrals and touchpoints.
            if purchaseCount >= 2 && Int.random(in: 0..<100, using: &rng) < 25 {
                let referred = customerIDs.count > 1 && Bool.random(using: &rng) ? customerIDs[Int.random(in: 0..<customerIDs.count - 1, using: &rng)] : nil
                var fields: [String: String?] = ["customer_id": id, "type": "referral", "on": randomDate().description, "note": "introduced a colleague"]
                if let referred { fields["referred_customer_id"] = referred } else { fields["referred_name"] = "Prospect of \(index)" }
                states.append(try! RecordState.new(kind: .activity, id: RecordID.random(using: &rng), fields: fields, by: author(replica)))
            }
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                var fields: [String: String?] = [
                    "customer_id": id, "type": "touchpoint", "on": randomDate().description,
                    "channel": Schema.channels.randomElement(using: &rng)!, "note": "follow-up",
                ]
                if Bool.random(using: &rng) { fields["nps"] = String(Int.random(in: 0...10, using: &rng)) }
                states.append(try! RecordState.new(kind: .activity, id: RecordID.random(using: &rng), fields: fields, by: author(replica)))
            }
            // Concurrent edits on two laptops: some resolve into a conflict on `phone`.
            if index % 50 == 3 {
                var other = customer
                try! customer.set("phone", to: "555-01\(index % 100)", by: author(replica))
                try! other.set("phone", to: "555-02\(index % 100)", by: author("manager-laptop"))
                customer.merge(other)
            }
            if index % 97 == 5 {
                customer.delete(by: author(replica))
            }
            states.append(customer)
        }
        return states
    }
}
