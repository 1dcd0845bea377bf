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

    /// A compaction may leave the book out (a fold in the middle of a sync); reports then read
    /// the facts files, and the book written later is the one a compaction would have written.
    @Test func aBookLeftOutIsReadFromTheFactsAndWrittenLater() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try Fixtures.open(dir)
        defer { store.close() }
        try store.commit(SampleBook.generate(seed: 35, customers: 80).map { .init(state: $0, pending: false) })
        try store.compact()
        let generation = try #require(store.generationDirectory)
        let expected = try #require(try GenerationBook.read(in: generation))

        try store.commit([.init(state: Fixtures.customer("Late", territory: "north"), pending: true)])
        try store.compact(writingBook: false)
        let folded = try #require(store.generationDirectory)
        #expect(try GenerationBook.read(in: folded) == nil)
        try Self.expectBookOfStates(store)
        try store.writeBookIfMissing()
        let written = try #require(try GenerationBook.read(in: folded))
        #expect(BookFile.counts(of: written)! == (store.customers!.count, store.activities!.count))
        #expect(written.count > expected.count, "the new customer is in it")
        #expect(!POSIX.listDirectory(folded).contains { $0.contains(".tmp") }, "written beside, then renamed")
        try Self.expectBookOfStates(store)
    }

    /// A first sync that folds its journal along the way (here after every few pages) ends on a
    /// generation with its book: the folds leave it out, the sync's end writes it.
    @Test func aFirstSyncThatFoldsMidwayEndsWithTheBookOfItsGeneration() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let states = SampleBook.generate(seed: 36, customers: 60)
        let territories = Set(states.compactMap { $0.kind == .customer ? $0.displayedValue("territory") : nil })
        let server = MiniServer(territories: territories, pageSize: 50, book: states)
        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.pageLimit = 50
        engine.foldFloor = 40_000
        _ = try await engine.run(client: server)
        let store = try Fixtures.open(dir)
        defer { store.close() }
        let generation = try #require(store.generationDirectory)
        let number = Int(generation.split(separator: "-").last.map(String.init) ?? "") ?? 0
        #expect(number >= 2, "the sync folded along the way (generation \(number))")
        let written = try #require(try GenerationBook.read(in: generation), "the sync's end wrote the book")
        #expect(BookFile.counts(of: written)! == (store.customers!.count, store.activities!.count))
        try Self.expectBookOfStates(store)
    }
}
