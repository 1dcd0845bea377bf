import Testing

@testable import CXModel

@Suite struct ValidationTests {
    @Test(arguments: [
        ("email", "ana@example.com", "ana@example.com"),
        ("email", "  ana@example.com ", "ana@example.com"),
        ("name", "Acme", "Acme"),
        ("extra.industry", "retail", "retail"),
        ("notes", "", ""),
    ])
    func acceptsCustomerValues(field: String, value: String, canonical: String) throws {
        #expect(try Schema.normalize(value, for: field, in: .customer) == canonical)
    }

    @Test(arguments: [
        ("name", ""), ("name", "   "), ("email", "ana"), ("email", "ana@example"), ("email", "a b@example.com"),
        ("email", "@example.com"), ("favourite_colour", "blue"), ("extra.", "x"), ("extra.bad key", "x"),
    ])
    func rejectsCustomerValues(field: String, value: String) {
        #expect(throws: RecordValidationError.self) { try Schema.normalize(value, for: field, in: .customer) }
    }

    @Test(arguments: [
        ("amount", "120", "120.00"), ("amount", "120.5", "120.50"), ("amount", "0.01", "0.01"),
        // Zero-value orders and credit notes: a value of any sign is an amount; which records may
        // hold a negative one is the record's rule (CreditNoteTests).
        ("amount", "0", "0.00"), ("amount", "-0", "0.00"), ("amount", "-5", "-5.00"), ("amount", "-20.5", "-20.50"),
        ("credits", "0D9C6C1E-8A55-4D2E-9F5E-0B7A1C2D3E4F", "0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f"),
        ("margin", "0.12", "0.12"), ("margin", "-0.075", "-0.075"), ("margin", "1", "1"), ("margin", "-1.0", "-1"),
        ("margin", "0.1200", "0.12"), ("on", "2024-02-29", "2024-02-29"), ("nps", "0", "0"), ("nps", "10", "10"),
        ("type", "purchase", "purchase"), ("channel", "visit", "visit"),
        ("customer_id", "0D9C6C1E-8A55-4D2E-9F5E-0B7A1C2D3E4F", "0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f"),
    ])
    func acceptsActivityValues(field: String, value: String, canonical: String) throws {
        #expect(try Schema.normalize(value, for: field, in: .activity) == canonical)
    }

    @Test(arguments: [
        ("amount", "+5"), ("amount", "--5"), ("amount", "1.234"), ("amount", "1e3"), ("amount", "12,50"), ("credits", "9b1d22"),
        ("amount", ""), ("margin", "1.01"), ("margin", "-1.5"), ("margin", "0.12345"), ("margin", "abc"),
        ("on", "2023-02-29"), ("on", "2026-13-01"), ("on", "26-11-20"), ("on", "2026-11-20T10:00"),
        ("nps", "11"), ("nps", "-1"), ("nps", "5.5"), ("type", "sale"), ("channel", "fax"), ("customer_id", "not-a-uuid"),
        ("name", "x"),
    ])
    func rejectsActivityValues(field: String, value: String) {
        #expect(throws: RecordValidationError.self) { try Schema.normalize(value, for: field, in: .activity) }
    }

    @Test func errorsSayWhatIsAccepted() {
        do {
            _ = try Schema.normalize("12.345", for: "amount", in: .activity)
            Issue.record("expected an error")
        } catch {
            #expect(error.field == "amount")
            #expect(error.description.contains("at most 2 places"))
        }
    }

    @Test func requiredActivityFieldsCannotBeUnset() throws {
        #expect(throws: RecordValidationError.self) { try Schema.normalize(nil, for: "customer_id", in: .activity) }
        #expect(try Schema.normalize(nil, for: "paid_on", in: .activity) == nil)
    }

    @Test func tagsMustBeNonEmptySingleLine() throws {
        #expect(try Schema.normalizeTag(" vip ") == "vip")
        #expect(throws: RecordValidationError.self) { try Schema.normalizeTag("") }
        #expect(throws: RecordValidationError.self) { try Schema.normalizeTag("a\nb") }
    }

    @Test func moneyAndMarginsAreExact() {
        #expect(Money("0.10")! + Money("0.20")! == Money("0.30")!)
        #expect(Money("-3.5")?.description == "-3.50")
        #expect(DecimalText("0.075")?.tenThousandths == 750)
        #expect(DecimalText("-0.5")?.description == "-0.5")
    }

    @Test func calendarDatesAndTimestampsRoundTrip() throws {
        let date = try #require(CalendarDate("2026-02-28"))
        #expect(date.adding(days: 1).description == "2026-03-01")
        #expect(CalendarDate("1970-01-01")?.dayNumber == 0)
        #expect(CalendarDate("1969-12-31")?.dayNumber == -1)
        let timestamp = try #require(Timestamp("2026-11-20T10:02:03.120Z"))
        #expect(timestamp.description == "2026-11-20T10:02:03.120Z")
        #expect(Timestamp("2026-11-20T10:02:03Z") == nil)
        #expect(Timestamp(millisecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999Z")
    }
}
