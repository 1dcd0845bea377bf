import Testing

@testable import CXModel

/// States stored under earlier value rules stay readable; new writes meet today's rules.
@Suite struct StoredStateRulesTests {
    static let id = "5b0e3c1a-2f4d-4e6b-8a9c-0d1e2f3a4b5c"
    /// A city of 250 code points: accepted before the 200-code-point limit on naming fields.
    static let longCity = String(repeating: "Llanfair", count: 31) + "ab"

    static func state(city: String, tags: String = "{}", cityDot: Int = 2) -> String {
        """
        {"id":"\(id)","kind":"customer","clock":{"r1":4},"fields":{\
        "name":[{"value":"Acme","dot":["r1",1],"at":"2026-01-01T00:00:00.000Z"}],\
        "city":[{"value":"\(city)","dot":["r1",\(cityDot)],"at":"2026-01-01T00:00:00.000Z"}]},\
        "tags":\(tags)}
        """
    }

    @Test func anOverLongStoredValueIsReadAsStoredOnly() throws {
        #expect(Self.longCity.unicodeScalars.count == 250)
        let text = Self.state(city: Self.longCity)
        #expect(throws: StateDecodingError.self) { try RecordState(jsonString: text) }
        let stored = try RecordState(jsonString: text, values: .stored)
        #expect(stored.displayedValue("city") == Self.longCity)
        let pushed = try RecordState(jsonString: text, values: .pushed)
        #expect(pushed == stored)
        // Encoded again, it reads the same: a cache or database keeps it through compaction.
        #expect(try RecordState(jsonBytes: stored.jsonBytes(), values: .stored) == stored)
    }

    @Test func aNonCanonicalStoredValueIsReadInCanonicalForm() throws {
        // An email with surrounding spaces, as a replica without trimming may have stored it.
        let text = """
            {"id":"\(Self.id)","kind":"customer","clock":{"r1":2},"fields":{\
            "name":[{"value":"Acme","dot":["r1",1],"at":"2026-01-01T00:00:00.000Z"}],\
            "email":[{"value":" a@example.com ","dot":["r1",2],"at":"2026-01-01T00:00:00.000Z"}]}}
            """
        #expect(throws: StateDecodingError.self) { try RecordState(jsonString: text, values: .pushed) }
        let stored = try RecordState(jsonString: text, values: .stored)
        #expect(stored.displayedValue("email") == "a@example.com")
    }

    @Test func aValueInvalidUnderAnyRulesIsRefusedEvenWhenStored() {
        let text = """
            {"id":"\(Self.id)","kind":"activity","clock":{"r1":1},"fields":{\
            "amount":[{"value":"ten","dot":["r1",1],"at":"2026-01-01T00:00:00.000Z"}]}}
            """
        #expect(throws: StateDecodingError.self) { try RecordState(jsonString: text, values: .stored) }
    }

    @Test func twoStoredSpellingsOfOneTagAreOneTag() throws {
        let nfd = "Zu\u{308}rich", nfc = "Z\u{FC}rich"
        let text = Self.state(city: "Bern", tags: #"{"\#(nfd)":[["r1",3]],"\#(nfc)":[["r1",4]]}"#)
        #expect(throws: StateDecodingError.self) { try RecordState(jsonString: text) }
        let stored = try RecordState(jsonString: text, values: .stored)
        #expect(stored.tags.count == 1)
        #expect(stored.tags.first?.dots.count == 2)
    }

    @Test func onlyWritesNewToTheReceiverAreHeldToTodaysLimits() throws {
        let state = try RecordState(jsonString: Self.state(city: Self.longCity), values: .pushed)
        // A receiver that never stored the record: the long city is a new write.
        #expect(state.lengthViolation(notCoveredBy: nil)?.field == "city")
        // A receiver that holds the city's write (dot r1:2) stored it under earlier rules.
        #expect(state.lengthViolation(notCoveredBy: VersionVector(sortedEntries: [Dot(replica: "r1", counter: 2)])) == nil)
        #expect(state.lengthViolation(notCoveredBy: VersionVector(sortedEntries: [Dot(replica: "r1", counter: 1)]))?.field == "city")
        let shortCity = try RecordState(jsonString: Self.state(city: "Bern"), values: .pushed)
        #expect(shortCity.lengthViolation(notCoveredBy: nil) == nil)
        let longTag = String(repeating: "t", count: 150)
        let tagged = try RecordState(jsonString: Self.state(city: "Bern", tags: #"{"\#(longTag)":[["r1",3]]}"#), values: .pushed)
        #expect(tagged.lengthViolation(notCoveredBy: nil)?.field == "tags")
        #expect(tagged.lengthViolation(notCoveredBy: VersionVector(sortedEntries: [Dot(replica: "r1", counter: 4)])) == nil)
    }
}
