import Testing
@testable import CXModel
import CXSampleData

/// `book.bin` is derived from the facts lines: a book read from it (minus the records a journal
/// replaces, plus the journal's own) must be the book the facts lines give.
@Suite struct BookFileTests {
    static let customer = "0c1e0000-0000-4000-8000-000000000002"
    static let deleted = "0c1e0000-0000-4000-8000-000000000003"
    static let elsewhere = "ffff0000-0000-4000-8000-000000000009"

    /// A generation's facts in table order: every customer sorted by id, then every activity.
    static func tables(seed: UInt64) -> (customers: [[UInt8]], activities: [[UInt8]]) {
        let id = "0c1e0000-0000-4000-8000-00000000a00"
        var customers = SampleBook.generate(seed: seed, customers: 90).filter { $0.kind == .customer }.map { ($0.id, InsightFacts($0).jsonBytes()) }
        var activities = SampleBook.generate(seed: seed, customers: 90).filter { $0.kind == .activity }.map { ($0.id, InsightFacts($0).jsonBytes()) }
        customers += [
            (customer, Array(#"["\#(customer)","customer",false,"Quote \" back","Zürich","rep-ü",null]"#.utf8)),
            (deleted, Array(#"["\#(deleted)","customer",true,"Gone",null,null,null]"#.utf8)),
        ]
        let handWritten = [
            #"["\#(id)1","activity",false,"\#(customer)","purchase","2025-03-02","120.00","0.25",null,null,null]"#,
            #"["\#(id)2","activity",false,"\#(customer)","purchase","2025-02-30","9.99",null,null,null,null]"#,
            #"["\#(id)3","activity",false,"\#(customer)","purchase","2025-03-05","-3.5","abc","2025-04-01","2025-03-20",null]"#,
            #"["\#(id)4","activity",false,"\#(customer)","touchpoint","2025-03-06",null,null,null,null,"x"]"#,
            #"["\#(id)5","activity",false,"\#(customer)","touchpoint","2025-03-07",null,null,null,null,"9"]"#,
            #"["\#(id)6","activity",false,"\#(customer)","referral","2025-03-08",null,null,null,null,null]"#,
            #"["\#(id)7","activity",true,"\#(customer)","purchase","2025-03-09","5.00",null,null,null,null]"#,
            #"["\#(id)8","activity",false,"\#(customer)","meeting","2025-03-10",null,null,null,null,null]"#,
            #"["\#(id)9","activity",false,null,"purchase","2025-03-11","5.00",null,null,null,null]"#,
            // Activities of a deleted customer and of one the table lacks still count.
            #"["\#(id)a","activity",false,"\#(deleted)","purchase","2025-03-12","7.00","0.1000","2025-04-12","2025-04-01",null]"#,
            #"["\#(id)b","activity",false,"\#(elsewhere)","referral","2025-03-13",null,null,null,null,null]"#,
            #"["\#(id)c","activity",false,"\#(elsewhere)","touchpoint","2025-03-14",null,null,null,null,"10"]"#,
        ]
        activities += handWritten.map { line in (String(line.dropFirst(2).prefix(36)), Array(line.utf8)) }
        return (customers.sorted { $0.0 < $1.0 }.map(\.1), activities.sorted { $0.0 < $1.0 }.map(\.1))
    }

    static func bookFile(_ tables: (customers: [[UInt8]], activities: [[UInt8]])) throws -> [UInt8] {
        var writer = BookFile.Writer()
        for line in tables.customers + tables.activities { try line.withUnsafeBufferPointer { try writer.add(factsLine: $0) } }
        #expect(writer.isFaithful)
        return writer.bytes()
    }

    static func expectSameBook(_ a: CustomerBook, _ b: CustomerBook) {
        #expect(a.customers == b.customers)
        #expect(a.purchases == b.purchases)
        #expect(a.referrals == b.referrals)
        #expect(a.ratings == b.ratings)
    }

    @Test(arguments: [UInt64(3), 17, 40])
    func aBookFromTheFileIsTheBookOfTheFactsLines(seed: UInt64) throws {
        let tables = Self.tables(seed: seed)
        var fromLines = CustomerBookBuilder()
        for line in tables.customers + tables.activities { try line.withUnsafeBufferPointer { try fromLines.add(factsLine: $0) } }
        let expected = fromLines.build()
        let file = try Self.bookFile(tables)
        #expect(BookFile.counts(of: file)! == (tables.customers.count, tables.activities.count))
        let book = try CustomerBookBuilder(bookFile: file).build()
        Self.expectSameBook(book, expected)
        #expect(book.purchases[Self.customer]?.count == 2)
        #expect(book.purchases[Self.deleted]?.first?.paidOn == CalendarDate(year: 2025, month: 4, day: 1))
        #expect(book.referrals[Self.elsewhere]?.count == 1)
        #expect(book.customers[Self.deleted] == nil)
        #expect(book.gathered?.count == book.customers.count)
    }

    /// What a cache does with its journal: the records it replaces or drops are skipped by
    /// position, and its own records added after.
    @Test(arguments: [UInt64(5), 23])
    func skippedPositionsAndLaterRecordsGiveTheBookOfTheFactsPath(seed: UInt64) throws {
        let tables = Self.tables(seed: seed)
        // Every fourth customer and every fifth activity, shifted by the seed.
        let skippedCustomers = Set((0..<tables.customers.count).filter { ($0 + Int(seed)) % 4 == 0 })
        let skippedActivities = Set((0..<tables.activities.count).filter { ($0 + Int(seed)) % 5 == 0 })
        // The journal: a replaced customer renamed, one new customer, an activity of each.
        let replaced = try InsightFacts(jsonBytes: tables.customers[skippedCustomers.min()!])
        let journal = [
            InsightFacts(id: replaced.id, kind: .customer, isDeleted: false, values: ["Renamed", "south", nil, "smb"]),
            InsightFacts(id: "0c1e0000-0000-4000-8000-0000000000ee", kind: .customer, isDeleted: false, values: ["New", nil, nil, nil]),
            InsightFacts(
                id: "0c1e0000-0000-4000-8000-0000000000e1", kind: .activity, isDeleted: false,
                values: [replaced.id, "purchase", "2025-05-01", "42.00", nil, nil, nil, nil]),
            InsightFacts(
                id: "0c1e0000-0000-4000-8000-0000000000e2", kind: .activity, isDeleted: false,
                values: ["0c1e0000-0000-4000-8000-0000000000ee", "referral", "2025-05-02", nil, nil, nil, nil, nil]),
        ]

        var fromLines = CustomerBookBuilder()
        for (position, line) in tables.customers.enumerated() where !skippedCustomers.contains(position) {
            try line.withUnsafeBufferPointer { try fromLines.add(factsLine: $0) }
        }
        for (position, line) in tables.activities.enumerated() where !skippedActivities.contains(position) {
            try line.withUnsafeBufferPointer { try fromLines.add(factsLine: $0) }
        }
        var fromFile = try CustomerBookBuilder(
            bookFile: Self.bookFile(tables), skippingCustomers: skippedCustomers, skippingActivities: skippedActivities)
        for facts in journal {
            fromLines.add(facts)
            fromFile.add(facts)
        }
        let book = fromFile.build()
        Self.expectSameBook(book, fromLines.build())
        #expect(book.customers[replaced.id]?.name == "Renamed")
        #expect(book.purchases[replaced.id]?.contains { $0.amount == Money(cents: 4200) } == true)
    }

    @Test func anUnreadableFileIsRefusedNotMisread() throws {
        let file = try Self.bookFile(Self.tables(seed: 2))
        var wrongVersion = file
        wrongVersion[8] = 9
        var badRef = file
        // The first customer's id ref, pointed far past the strings.
        badRef.replaceSubrange(BookFile.headerSize..<(BookFile.headerSize + 4), with: [0xF0, 0xFF, 0xFF, 0x0F])
        for broken in [Array(file.dropLast()), Array(file.prefix(20)), wrongVersion, badRef, Array("not a book".utf8)] {
            #expect(throws: BookFile.Unreadable.self) { try CustomerBookBuilder(bookFile: broken) }
        }
        #expect(BookFile.counts(of: Array(file.dropLast())) == nil)
    }

    @Test func aScoreTheLayoutCannotHoldMakesTheWriterUnfaithful() throws {
        var writer = BookFile.Writer()
        writer.add(InsightFacts(id: Self.customer, kind: .customer, isDeleted: false, values: ["A", nil, nil, nil]))
        writer.add(
            InsightFacts(
                id: "0c1e0000-0000-4000-8000-0000000000e1", kind: .activity, isDeleted: false,
                values: [Self.customer, "touchpoint", "2025-05-01", nil, nil, nil, nil, "300"]))
        #expect(!writer.isFaithful)
    }
}
