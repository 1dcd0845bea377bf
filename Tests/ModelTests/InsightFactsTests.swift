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

    /// `CustomerBookBuilder` reads plain lines itself and hands the rest to the general parser: the
    /// two must build the same book from any line, including the ones only one of them reads.
    @Test func readingFactsLinesDirectlyGivesTheBookOfTheGeneralParser() throws {
        var lines = SampleBook.generate(seed: 11, customers: 120).map { InsightFacts($0).jsonBytes() }
        let id = "0c1e0000-0000-4000-8000-000000000001", customer = "0c1e0000-0000-4000-8000-000000000002"
        let handWritten = [
            // Escapes, non-ASCII text and whitespace: the general parser's lines.
            #"["\#(customer)","customer",false,"Quote \" back","Zürich","rep-ü",null]"#,
            #"[ "\#(id)1","activity",false,"\#(customer)","purchase","2025-03-02","120.00","0.25",null,null,null]"#,
            #"["\#(id)2","activity",false,"\#(customer)","purch\u0061se","2025-03-03","1.5",null,null,null,null]"#,
            // Values the book skips or defaults: bad date, bad amount, bad margin, bad score.
            #"["\#(id)3","activity",false,"\#(customer)","purchase","2025-02-30","9.99",null,null,null,null]"#,
            #"["\#(id)4","activity",false,"\#(customer)","purchase","2025-03-04","9.999",null,null,null,null]"#,
            #"["\#(id)5","activity",false,"\#(customer)","purchase","2025-03-05","-3.5","abc","2025-04-01","2025-03-20",null]"#,
            #"["\#(id)6","activity",false,"\#(customer)","touchpoint","2025-03-06",null,null,null,null,"x"]"#,
            #"["\#(id)7","activity",false,"\#(customer)","touchpoint","2025-03-07",null,null,null,null,"9"]"#,
            #"["\#(id)8","activity",false,"\#(customer)","referral","2025-03-08",null,null,null,null,null]"#,
            #"["\#(id)9","activity",true,"\#(customer)","purchase","2025-03-09","5.00",null,null,null,null]"#,
            #"["\#(id)a","activity",false,"\#(customer)","meeting","2025-03-10",null,null,null,null,null]"#,
            #"["\#(id)b","activity",false,null,"purchase","2025-03-11","5.00",null,null,null,null]"#,
            #"["\#(id)c","activity",false,"\#(customer)","purchase","2025-03-12",".50",null,null,null,null]"#,
            #"["\#(id)d","activity",false,"\#(customer)","purchase","2025-03-13","12.",null,null,null,null]"#,
            #"["\#(id)e","activity",false,"\#(customer)","purchase","2025-03-14","1234567890123.45","-1.0000",null,null,null]"#,
        ]
        lines += handWritten.map { Array($0.utf8) }
        var builder = CustomerBookBuilder(), general = CustomerBook()
        for line in lines {
            try line.withUnsafeBufferPointer { try builder.add(factsLine: $0) }
            general.add(try InsightFacts(jsonBytes: line))
        }
        let direct = builder.build()
        #expect(direct.customers == general.customers)
        #expect(direct.purchases == general.purchases)
        #expect(direct.referrals == general.referrals)
        #expect(direct.ratings == general.ratings)
        #expect(direct.purchases[customer]?.count == 4)  // ids 1, 2 (an escaped type), 5 and e
        #expect(direct.customers[customer]?.territory == "Zürich")
    }

    /// The builder gathers each customer with its history so reports need not look them up:
    /// what it gathers must be what the book's dictionaries hold, whether the lines were read by
    /// one builder or split between two (activities before or after their customer), and when the
    /// book is partitioned.
    @Test(arguments: [0, 1, 97, 250, 400])
    func gatheredHistoriesAreTheOnesLookedUp(split: Int) throws {
        var lines = SampleBook.generate(seed: 12, customers: 80).map { InsightFacts($0).jsonBytes() }
        lines.reverse()  // activities first: a slot exists before its customer's line
        let cut = min(split, lines.count)
        var first = CustomerBookBuilder(), second = CustomerBookBuilder()
        for line in lines[..<cut] { try line.withUnsafeBufferPointer { try first.add(factsLine: $0) } }
        for line in lines[cut...] { try line.withUnsafeBufferPointer { try second.add(factsLine: $0) } }
        first.append(second)
        let book = first.build()
        let gathered = try #require(book.gathered)
        #expect(gathered.count == book.customers.count)
        #expect(Set(gathered.map(\.customer.id)) == Set(book.customers.keys))
        for (customer, history) in gathered {
            #expect(book.customers[customer.id] == customer)
            #expect(history.purchases == book.purchases[customer.id] ?? [])
            #expect(history.referrals == book.referrals[customer.id] ?? [])
        }
        var lookedUp = book
        lookedUp.gathered = nil
        let start = CalendarDate(year: 2024, month: 1, day: 1)!, end = CalendarDate(year: 2025, month: 1, day: 1)!
        #expect(CustomerBaseMetrics(book: book, start: start, end: end) == CustomerBaseMetrics(book: lookedUp, start: start, end: end))
        for dimension in MetricsDimension.allCases {
            let gatheredGroups = book.histories(groupedBy: dimension.value(of:)), lookedUpGroups = lookedUp.histories(groupedBy: dimension.value(of:))
            #expect(gatheredGroups.keys.sorted() == lookedUpGroups.keys.sorted())
            for (value, histories) in gatheredGroups {
                #expect(CustomerBaseMetrics(histories: histories, start: start, end: end, settings: .default)
                    == CustomerBaseMetrics(histories: lookedUpGroups[value]!, start: start, end: end, settings: .default))
            }
        }
        // A change to the book drops what was gathered: histories are looked up again.
        var changed = book
        changed.add(try InsightFacts(jsonBytes: Array(#"["0c1e0000-0000-4000-8000-0000000000ff","customer",false,"New",null,null,null]"#.utf8)))
        #expect(changed.gathered == nil)
        #expect(changed.histories().count == book.customers.count + 1)
    }

    @Test(arguments: [
        "", "[]", "[\"a\",\"customer\",false,null,null,null,null] x", "[\"a\",\"customer\",false,null,null,null]",
        "[\"a\",\"activity\",false,null,null,null,null,null,null,null,null,null]", "[\"a\",\"customer\",false,\"\u{1}\",null,null,null]",
        "[\"a\",\"customer\",false,\"\\q\",null,null,null]",
    ])
    func malformedFactsLinesAreRefusedByTheDirectReaderToo(_ line: String) {
        var builder = CustomerBookBuilder()
        #expect(throws: JSONScanner.Failure.self) { try Array(line.utf8).withUnsafeBufferPointer { try builder.add(factsLine: $0) } }
        let book = builder.build()
        #expect(book.customers.isEmpty && book.purchases.isEmpty)
    }

    @Test func illFormedUTF8InAFactsLineIsRefusedNotRepaired() {
        var line = Array(#"["a","customer",false,"x",null,null,null]"#.utf8)
        line[line.firstIndex(of: UInt8(ascii: "x"))!] = 0xC3  // a truncated two-byte sequence
        var builder = CustomerBookBuilder()
        #expect(throws: JSONScanner.Failure.self) { try line.withUnsafeBufferPointer { try builder.add(factsLine: $0) } }
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
