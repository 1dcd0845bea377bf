import CXModel
import Foundation
import Testing
@testable import CXClient
import CXSampleData

/// The facts files a generation keeps beside its states (`<kind>.facts.jsonl`) give reports and
/// `list --status` the same book as decoding every state, whatever mix of snapshot, journal,
/// edits, deletes and drops the cache holds, and caches written before them are upgraded.
@Suite struct InsightFactsCacheTests {
    static let editor = Author(replica: "other-laptop", user: "bob", at: Timestamp(millisecondsSinceEpoch: 1_790_000_100_000))

    /// A comparable form of a book (activity order within a customer is not part of its meaning).
    struct Normalized: Equatable {
        var customers: [String: CustomerBook.Customer]
        var purchases: [String: [String]]
        var referrals: [String: [String]]
        var ratings: [String]

        init(_ book: CustomerBook) {
            customers = book.customers
            purchases = book.purchases.mapValues { $0.map { "\($0)" }.sorted() }
            referrals = book.referrals.mapValues { $0.map { "\($0)" }.sorted() }
            ratings = book.ratings.map { "\($0)" }.sorted()
        }
    }

    /// The sample book written half to the snapshot, then edited, deleted and dropped in the
    /// journal; returns the states the cache should now show.
    static func editedCache(in dir: TemporaryDirectory) throws -> [RecordState] {
        var states = SampleBook.generate(seed: 23, customers: 120)
        let store = try Fixtures.open(dir)
        defer { store.close() }
        try store.commit(states.prefix(states.count / 2).map { CacheStore.Change(state: $0, pending: false) })
        try store.compact()
        try store.commit(states.dropFirst(states.count / 2).map { CacheStore.Change(state: $0, pending: false) })
        try store.compact()
        // In the journal: renames and territory moves of snapshot customers, a purchase's amount
        // changed, deletes of a customer and a purchase, and two records dropped from scope.
        var changes: [CacheStore.Change] = []
        var dropped: [(id: String, kind: RecordKind)] = []
        let customers = states.indices.filter { states[$0].kind == .customer }
        let purchases = states.indices.filter { states[$0].displayedValue("type") == "purchase" }
        for (n, i) in customers.prefix(6).enumerated() {
            try states[i].set(n % 2 == 0 ? "name" : "territory", to: n % 2 == 0 ? "Renamed \(n)" : "east", by: editor)
            changes.append(.init(state: states[i], pending: true))
        }
        try states[purchases[0]].set("amount", to: "999.99", by: editor)
        changes.append(.init(state: states[purchases[0]], pending: true))
        states[customers[7]].delete(by: editor)
        states[purchases[1]].delete(by: editor)
        changes += [.init(state: states[customers[7]], pending: true), .init(state: states[purchases[1]], pending: true)]
        dropped = [(states[customers[8]].id, .customer), (states[purchases[2]].id, .activity)]
        try store.commit(changes, drops: dropped)
        let gone = Set(dropped.map(\.id))
        return states.filter { !gone.contains($0.id) }
    }

    @Test func factsGiveTheSameBookAsDecodingEveryState() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let expected = try Self.editedCache(in: dir)
        for compactFirst in [false, true] {
            if compactFirst {
                let writer = try Fixtures.open(dir)
                try writer.compact()
                writer.close()
            }
            let store = try Fixtures.open(dir, exclusive: false)
            defer { store.close() }
            #expect(store.snapshotHasFacts)
            var decoded = CustomerBook()
            try store.forEachState { decoded.add($0) }
            let fromFacts = try store.customerBook()
            #expect(Normalized(fromFacts) == Normalized(decoded))
            #expect(Normalized(fromFacts) == Normalized(CustomerBook(states: expected)))
            #expect(fromFacts.customers.values.contains { $0.name == "Renamed 0" })
        }
    }

    @Test func aGenerationWrittenBeforeFactsIsReadByDecodingAndUpgradedByTheNextWriter() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let expected = try Self.editedCache(in: dir)
        let generation = try #require(try Fixtures.open(dir, exclusive: false).generationDirectory)
        for name in ["customers", "activities"] { try FileManager.default.removeItem(atPath: "\(generation)/\(name).facts.jsonl") }

        let reader = try Fixtures.open(dir, exclusive: false)
        #expect(!reader.snapshotHasFacts)
        #expect(Normalized(try reader.customerBook()) == Normalized(CustomerBook(states: expected)))
        reader.close()

        let writer = try Fixtures.open(dir)
        try writer.compactIfNeeded()  // a small journal, but no facts: compacts once
        #expect(writer.snapshotHasFacts)
        #expect(writer.journalSize == 0)
        #expect(Normalized(try writer.customerBook()) == Normalized(CustomerBook(states: expected)))
        writer.close()
    }

    @Test func aTornFactsFileIsReportedWithTheWayOut() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        _ = try Self.editedCache(in: dir)
        let writer = try Fixtures.open(dir)
        try writer.compact()
        let generation = try #require(writer.generationDirectory)
        writer.close()
        try Data("[\"not-a-facts-line\n".utf8).write(to: URL(fileURLWithPath: "\(generation)/activities.facts.jsonl"))
        // Without `book.bin` (a generation of an older cx, or one that could not write it) the
        // facts files are what a report reads.
        try FileManager.default.removeItem(atPath: "\(generation)/\(GenerationBook.fileName)")
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        let error = #expect(throws: CXError.self) { try store.customerBook() }
        #expect(error?.message.contains("activities.facts.jsonl") == true)
        #expect(error?.hint?.contains("cx sync") == true)
    }
}
