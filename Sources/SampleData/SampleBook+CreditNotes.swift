import CXModel

extension SampleBook {
    /// `states` (a generated book) with refunds and zero-value orders added, the edge cases of
    /// net revenue (docs/sql-guide.md §3–4): about one purchase in ten credited — partly or in
    /// full, by one or two credit notes, on the purchase's day or up to four months later (often
    /// in another period), some on period boundaries, most with the purchase's margin; zero-value
    /// orders for some buyers; some leads whose only purchase is a zero-value order, others with
    /// only a credit note; a few deleted credit notes.
    public static func addingCreditNotes(to states: [RecordState], seed: UInt64 = 2027) -> [RecordState] {
        var rng = SeededRandomGenerator(seed: seed)
        var clockMillis: Int64 = 1_767_225_600_000
        func author() -> Author {
            clockMillis += 1000
            return Author(replica: "erp-import", user: "erp", at: Timestamp(millisecondsSinceEpoch: clockMillis))
        }
        func activity(_ fields: [String: String?]) -> RecordState {
            try! RecordState.new(kind: .activity, id: RecordID.random(using: &rng), fields: fields, by: author())
        }
        var added: [RecordState] = []
        var buyers = Set<String>()
        for state in states where state.kind == .activity && !state.isDeleted && state.displayedValue("type") == "purchase" {
            guard let customer = state.displayedValue("customer_id"), let on = state.displayedValue("on").flatMap(CalendarDate.init),
                let amount = state.displayedValue("amount").flatMap(Money.init), amount.isPositive
            else { continue }
            buyers.insert(customer)
            guard Int.random(in: 0..<10, using: &rng) == 0 else { continue }
            let notes = Int.random(in: 0..<4, using: &rng) == 0 ? 2 : 1
            for _ in 0..<notes {
                let roll = Int.random(in: 0..<10, using: &rng)
                let cents = roll < 3 ? amount.cents : Int64.random(in: 1...amount.cents, using: &rng)
                let date =
                    roll == 9
                    ? CalendarDate(boundaryDates[Int.random(in: 0..<boundaryDates.count, using: &rng)])!
                    : on.adding(days: Int.random(in: 0...120, using: &rng))
                var fields: [String: String?] = [
                    "customer_id": customer, "type": "purchase", "on": date.description,
                    "amount": Money(cents: -cents).description, "credits": state.id,
                ]
                if Int.random(in: 0..<10, using: &rng) < 7 { fields["margin"] = state.displayedValue("margin") }
                if Bool.random(using: &rng) { fields["paid_on"] = date.description }
                var note = activity(fields)
                if Int.random(in: 0..<40, using: &rng) == 0 { note.delete(by: author()) }
                added.append(note)
            }
        }
        let customers = states.filter { $0.kind == .customer && !$0.isDeleted }.map(\.id)
        let first = CalendarDate("2024-01-01")!
        for (index, customer) in customers.enumerated() {
            let date = first.adding(days: Int.random(in: 0...1_095, using: &rng))
            if buyers.contains(customer) {
                // Some buyers also place zero-value orders (samples, warranty replacements).
                guard index % 9 == 0 else { continue }
                var fields: [String: String?] = ["customer_id": customer, "type": "purchase", "on": date.description, "amount": "0.00"]
                if index % 2 == 0 { fields["margin"] = "0.5" }
                added.append(activity(fields))
            } else if index % 3 == 0 {
                // A lead whose only purchase is a zero-value order: no longer a lead, no revenue.
                added.append(activity(["customer_id": customer, "type": "purchase", "on": date.description, "amount": "0.00"]))
            } else if index % 3 == 1 {
                // A credit note without any order (for a purchase this book does not hold): still a lead.
                added.append(
                    activity([
                        "customer_id": customer, "type": "purchase", "on": date.description, "amount": "-15.00",
                        "credits": RecordID.random(using: &rng),
                    ]))
            }
        }
        return states + added
    }
}
