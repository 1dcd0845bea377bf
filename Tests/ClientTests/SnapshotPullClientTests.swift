import CXModel
import Foundation
import Testing
@testable import CXClient

/// The first sync of an empty cache from the server's snapshot (SnapshotPull.swift): the same
/// cache as the regular first sync, written without a journal; other commands' writes during it
/// kept; anything unusual handed to the regular sync, which converges all the same.
@Suite struct SnapshotPullClientTests {
    /// A book of `customers` north customers (one with a conflict), each with an activity, and a
    /// south customer the rep does not see.
    static func book(customers: Int = 23) -> [RecordState] {
        var book: [RecordState] = []
        for index in 0..<customers {
            var customer = Fixtures.customer("Customer \(index)", territory: "north", by: Fixtures.server)
            if index == 3 {
                var other = customer
                try! customer.set("phone", to: "111", by: Author(replica: "laptop-x", user: "x", at: Timestamp(millisecondsSinceEpoch: 1_790_000_100_000)))
                try! other.set("phone", to: "222", by: Author(replica: "laptop-y", user: "y", at: Timestamp(millisecondsSinceEpoch: 1_790_000_100_000)))
                customer = customer.merging(other)
            }
            book.append(customer)
            book.append(Fixtures.activity(of: customer.id))
        }
        book.append(Fixtures.customer("Southern", territory: "south", by: Fixtures.server))
        return book
    }

    func engine(_ dir: TemporaryDirectory, snapshots: Bool = true) -> SyncEngine {
        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.pageLimit = 5
        engine.pullsSnapshot = snapshots
        return engine
    }

    /// Every record of the cache, by id, with whether it is pending, and what reads of the cache
    /// answer: the same for two caches that hold the same thing.
    func contents(_ dir: TemporaryDirectory) throws -> (states: [String: RecordState], pending: [String], conflicted: [String], cursor: String?) {
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        var states: [String: RecordState] = [:]
        for (id, _) in try store.records() { states[id] = try store.state(id) }
        return (states, try store.pendingIDs().sorted(), try store.conflictedIDs().sorted(), store.cursor)
    }

    @Test func anEmptyCacheFilledFromTheSnapshotHoldsWhatTheRegularFirstSyncWrites() async throws {
        let book = Self.book()
        let viaSnapshot = TemporaryDirectory(), viaJournal = TemporaryDirectory()
        defer { viaSnapshot.cleanup(); viaJournal.cleanup() }
        let server = MiniServer(territories: ["north"], pageSize: 5, book: book)
        server.offersSnapshots = true
        let report = try await engine(viaSnapshot).run(client: server)
        #expect(server.snapshotPages == 10, "46 records in pages of 5")
        #expect(report.pulled == 46)
        let regular = MiniServer(territories: ["north"], pageSize: 5, book: book)
        _ = try await engine(viaJournal, snapshots: false).run(client: regular)

        let (snapshot, journal) = (try contents(viaSnapshot), try contents(viaJournal))
        #expect(snapshot.states.count == 46)
        #expect(snapshot.states == journal.states)
        #expect(snapshot.conflicted == journal.conflicted && snapshot.conflicted.count == 1)
        #expect(snapshot.pending.isEmpty)
        #expect(snapshot.cursor != nil && journal.cursor != nil)
        // The tables hold it, not a journal: nothing left to fold, no build directory left.
        let store = try Fixtures.open(viaSnapshot, exclusive: false)
        #expect(store.customers?.count == 23 && store.activities?.count == 23)
        #expect(store.journal.puts.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: viaSnapshot.path + "/cache/" + SnapshotWriter.directoryName))
        #expect(try store.activityIDs(ofCustomer: book[0].id) == [book[1].id])
        store.close()
        // The next sync is a regular one: the snapshot's cursor follows on.
        _ = try await engine(viaSnapshot).run(client: server)
        #expect(server.snapshotPages == 10)
    }

    @Test func aRecordAddedDuringTheSnapshotIsKeptAndPushed() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let server = MiniServer(territories: ["north"], pageSize: 5, book: Self.book())
        server.offersSnapshots = true
        let added = Fixtures.customer("Added during the sync", territory: "north")
        server.afterSnapshotPage = { page in
            guard page == 4 else { return }
            // `cx add` in another process, while the first sync runs.
            let store = try! Fixtures.open(dir)
            defer { store.close() }
            try! store.commit([CacheStore.Change(state: added, pending: true)])
        }
        _ = try await engine(dir).run(client: server)
        let cache = try contents(dir)
        #expect(cache.states[added.id] == added)
        #expect(cache.pending.isEmpty, "pushed in the same sync")
        #expect(server.pushed == [added.id])
        #expect(cache.states.count == 47)
    }

    @Test func aServerOutOfOrderOrAScopeChangeHandsOverToTheRegularSync() async throws {
        for trouble in ["order", "scope"] {
            let dir = TemporaryDirectory()
            defer { dir.cleanup() }
            let book = Self.book()
            let server = MiniServer(territories: ["north"], pageSize: 5, book: book)
            server.offersSnapshots = true
            if trouble == "order" {
                server.snapshotsOutOfOrder = true
            } else {
                server.afterSnapshotPage = { page in if page == 2 { server.territories = ["north", "south"] } }
            }
            _ = try await engine(dir).run(client: server)
            let cache = try contents(dir)
            #expect(Set(cache.states.keys) == server.book, "\(trouble)")
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/cache/" + SnapshotWriter.directoryName), "\(trouble)")
        }
    }

    @Test func anInterruptedSnapshotStartsOverAndCompletes() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let server = MiniServer(territories: ["north"], pageSize: 5, book: Self.book())
        server.offersSnapshots = true
        server.failAt = 4
        await #expect(throws: CXError.self) { _ = try await engine(dir).run(client: server) }
        #expect(try contents(dir).states.isEmpty, "nothing of a snapshot shows before it is complete")
        _ = try await engine(dir).run(client: server)
        #expect(Set(try contents(dir).states.keys) == server.book)
    }

    @Test func aScopeOfOneRecordOrNoneIsPulledTheRegularWay() async throws {
        for book in [[], [Fixtures.customer("Only one", territory: "north", by: Fixtures.server)]] {
            let dir = TemporaryDirectory()
            defer { dir.cleanup() }
            let server = MiniServer(territories: ["north"], pageSize: 5, book: book)
            server.offersSnapshots = true
            _ = try await engine(dir).run(client: server)
            _ = try await engine(dir).run(client: server)
            #expect(server.snapshotPages == 0)
            #expect(Set(try contents(dir).states.keys) == server.book)
        }
    }

    @Test func aCacheThatHoldsRecordsSyncsTheRegularWay() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let server = MiniServer(territories: ["north"], pageSize: 5, book: Self.book())
        server.offersSnapshots = true
        let mine = Fixtures.customer("Mine", territory: "north")
        do {
            let store = try Fixtures.open(dir)
            defer { store.close() }
            try store.commit([CacheStore.Change(state: mine, pending: true)])
        }
        _ = try await engine(dir).run(client: server)
        #expect(server.snapshotPages == 0)
        #expect(Set(try contents(dir).states.keys) == server.book)
    }
}
