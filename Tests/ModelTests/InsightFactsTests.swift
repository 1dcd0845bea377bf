import Testing
@testable import CXModel
import CXSampleData

@Suite struct InsightFactsTests {
    @Test func factsRoundTripThroughTheirJSONLineForEveryRecordOfASampleBook() throws {
        let states = SampleBook.generate(seed: 5, customers: 60)
        for state in states {
            let facts = InsightFacts(state)
            #expect(try InsightFacts(jsonBytes: facts.jsonBytes()) == facts)
            #expect(facts.isDeleted == state.isDeleted)
            for field in InsightFacts.fields(of: state.kind) { #expect(facts.value(field) == state.displayedValue(field)) }
        }
    }

    @Test func valuesWithQuotesNewlinesAndControlCharactersSurvive() throws {
        let author = Author(replica: "r1", user: "u", at: Timestamp(millisecondsSinceEpoch: 1_790_000_000_000))
        let state = try RecordState.new(
            kind: .customer, fields: ["name": "Quote \" back\\slash\nnew\tline \u{1}", "segment": "Ü-ñ"], by: author)
        let facts = InsightFacts(state)
        #expect(try InsightFacts(jsonBytes: facts.jsonBytes()) == facts)
        #expect(facts.value("name") == state.displayedValue("name"))
        #expect(facts.value("territory") == nil)
    }

    @Test func aBookFromFactsEqualsABookFromStates() {
        let states = SampleBook.generate(seed: 8, customers: 80)
        var fromFacts = CustomerBook()
        for state in states { fromFacts.add(InsightFacts(state)) }
        let fromStates = CustomerBook(states: states)
        #expect(fromFacts.customers == fromStates.customers)
        #expect(fromFacts.purchases == fromStates.purchases)
        #expect(fromFacts.referrals == fromStates.referrals)
        #expect(fromFacts.ratings == fromStates.ratings)
    }

    @Test(arguments: [
        "", "[]", "{}", "[\"a\",\"customer\",false]", "[\"a\",\"customer\",false,null,null,null,null,null]",
        "[\"a\",\"planet\",false,null,null,null,null]", "[\"a\",\"customer\",0,null,null,null,null]",
        "[\"a\",\"customer\",false,null,null,null,null] x",
    ])
    func malformedLinesAreRefused(_ line: String) {
        #expect(throws: JSONScanner.Failure.self) { try InsightFacts(jsonBytes: Array(line.utf8)) }
    }
}
