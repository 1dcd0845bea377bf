import CXModel
import CXSampleData
import Foundation
import Testing
@testable import CXClient

/// Reports read a generation's `book.bin` with the journal laid over it: the book must be the
/// one the cached states give, whatever the journal replaced or dropped since the compaction,
/// and a missing or damaged file must only cost speed.
@Suite struct GenerationBookTests {
    static func expectBookOfStates(_ store: CacheStore) throws {
        var states: [RecordState] = []
        try store.forEachState { states.append($0) }
        let expected = CustomerBook(states: states)
        let book = try store.customerBook()
        #expect(book.customers == expected.customers)
        #expect(book.purchases == expected.purchases)
        #expect(book.referrals == expected.referrals)
        #expect(Set(book.ratings) == Set(expected.ratings))
    }

    @Test func aCompactedCacheReadsItsBookFileWithTheJournalLaidOver() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let states = SampleBook.generate(seed: 31, customers: 150)
        let store = try Fixtures.open(dir)
        try store.commit(states.map { .init(state: $0, pending: false) })
        try store.compact()
        let bookPath = store.generationDirectory! + "/" + GenerationBook.fileName
        let written = try #require(try POSIX.readFile(bookPath))
        #expect(BookFile.counts(of: written)! == (store.customers!.count, store.activities!.count))
        try Self.expectBookOfStates(store)

        // The journal replaces a customer, adds a purchase to it, and drops another customer
        // with its activities (they left the user's scope).
        let customers = states.filter { $0.kind == .customer }
        var renamed = customers[3]
        try renamed.set("name", to: "Renamed Ltd", by: Fixtures.author)
        try renamed.set("territory", to: "far-east", by: Fixtures.author)
        let purchase = Fixtures.purchase(of: renamed.id, amount: "77.00")
        let leaving = customers[7]
        var drops: [(id: String, kind: RecordKind)] = [(leaving.id, .customer)]
        for activity in states where activity.kind == .activity && activity.displayedValue("customer_id") == leaving.id {
            drops.append((activity.id, .activity))
        }
        try store.commit([.init(state: renamed, pending: true), .init(state: purchase, pending: true)], drops: drops)
        let book = try store.customerBook()
        #expect(book.customers[renamed.id]?.name == "Renamed Ltd")
        #expect(book.customers[leaving.id] == nil)
        #expect(book.purchases[renamed.id]?.contains { $0.amount == Money(cents: 7700) } == true)
        try Self.expectBookOfStates(store)
        store.close()

        // Another process's view: the journal's puts are decoded, not known from memory.
        let reader = try Fixtures.open(dir, exclusive: false)
        defer { reader.close() }
        try Self.expectBookOfStates(reader)
    }

    @Test func aDamagedOrForeignBookFileIsIgnored() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try Fixtures.open(dir)
        defer { store.close() }
        try store.commit(SampleBook.generate(seed: 32, customers: 60).map { .init(state: $0, pending: false) })
        try store.compact()
        let bookPath = store.generationDirectory! + "/" + GenerationBook.fileName
        let original = try #require(try POSIX.readFile(bookPath))
        for damaged in [Array(original.dropLast(3)), Array(repeating: 0x41, count: 100)] {
            try POSIX.writeAtomically(damaged, to: bookPath)
            try Self.expectBookOfStates(store)
        }
        // A well-formed file of other tables (counts differ) is not used either.
        var writer = BookFile.Writer()
        writer.add(InsightFacts(id: RecordID.random(), kind: .customer, isDeleted: false, values: ["Stranger", nil, nil, nil]))
        try POSIX.writeAtomically(writer.bytes(), to: bookPath)
        try Self.expectBookOfStates(store)
        #expect(try store.customerBook().customers.values.contains { $0.name == "Stranger" } == false)
        POSIX.removeTree(bookPath)
        try Self.expectBookOfStates(store)
    }

    /// The book a compaction builds from the facts as it writes them (on another thread, in
    /// buffers that split lines anywhere) is byte for byte the book of the finished files —
    /// when both tables are rewritten, and when one is hard-linked unchanged.
    @Test func theBookBuiltWhileWritingIsTheBookOfTheFinishedFiles() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let states = SampleBook.generate(seed: 33, customers: 400)
        let store = try Fixtures.open(dir)
        defer { store.close() }
        func expectSameBookAsTheFiles() throws {
            let generation = try #require(store.generationDirectory)
            let built = try #require(try GenerationBook.read(in: generation))
            let copy = dir.path + "/copy-" + UUID().uuidString
            try POSIX.makeDirectories(copy)
            for table in ["customers", "activities"] {
                for file in SnapshotTable.fileNames(table) where POSIX.exists(generation + "/" + file) {
                    try POSIX.writeAtomically(try #require(try POSIX.readFile(generation + "/" + file)), to: copy + "/" + file)
                }
            }
            try GenerationBook.write(in: copy)
            #expect(try GenerationBook.read(in: copy) == built)
            #expect(BookFile.counts(of: built)! == (store.customers?.count ?? 0, store.activities?.count ?? 0))
        }
        try store.commit(states.map { .init(state: $0, pending: false) })
        try store.compact()
        try expectSameBookAsTheFiles()

        // Only activities change: the customers table is linked, its facts read from the file.
        let customer = try #require(states.first { $0.kind == .customer })
        try store.commit([.init(state: Fixtures.purchase(of: customer.id, amount: "12.50"), pending: true)])
        try store.compact()
        try expectSameBookAsTheFiles()
        // Only customers change: the activities table is linked.
        var renamed = customer
        try renamed.set("name", to: "Renamed While Linked", by: Fixtures.author)
        try store.commit([.init(state: renamed, pending: true)])
        try store.compact()
        try expectSameBookAsTheFiles()
        #expect(try store.customerBook().customers[customer.id]?.name == "Renamed While Linked")
    }

    /// Facts bytes handed over in pieces of any size give the book of the whole lines.
    @Test func factsSplitAnywhereGiveTheSameBook() throws {
        let states = SampleBook.generate(seed: 34, customers: 40)
            .sorted { ($0.kind == .customer ? 0 : 1, $0.id) < ($1.kind == .customer ? 0 : 1, $1.id) }
        let facts: [UInt8] = states.flatMap { InsightFacts($0).jsonBytes() + [0x0A] }
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        var books: [[UInt8]] = []
        for pieceSize in [1, 2, 7, 64, 1000, facts.count] {
            let target = dir.path + "/pieces-\(pieceSize)"
            try POSIX.makeDirectories(target)
            let builder = GenerationBook.Builder()
            for start in stride(from: 0, to: facts.count, by: pieceSize) {
                builder.add(factsBytes: Array(facts[start..<min(start + pieceSize, facts.count)]))
            }
            try builder.write(in: target)
            books.append(try #require(try GenerationBook.read(in: target)))
        }
        #expect(Set(books).count == 1)
        var whole = BookFile.Writer()
        for state in states { whole.add(InsightFacts(state)) }
        #expect(books[0] == whole.bytes())

        // A line cut short at the end, or one that is not facts, writes no book.
        for broken in [Array(facts.dropLast(5)), Array("not facts\n".utf8) + facts[...]] {
            let target = dir.path + "/broken-" + UUID().uuidString
            try POSIX.makeDirectories(target)
            let builder = GenerationBook.Builder()
            builder.add(factsBytes: broken)
            try builder.write(in: target)
            #expect(try GenerationBook.read(in: target) == nil)
        }
    }
}
