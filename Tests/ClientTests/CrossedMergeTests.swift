import CXModel
import Testing
@testable import CXClient

/// Two laptops merged the same two customers offline in opposite directions (A into B on one,
/// B into A on the other): the server then holds two tombstones pointing at each other and no
/// live customer — the pair would vanish for everyone. The next sync that sees the cycle
/// restores its smallest id as the survivor, with what it had not seen of the other; the other
/// stays merged into it.
@Suite struct CrossedMergeTests {
    static let laptopX = Author(replica: "laptop-x", user: "xavier", at: Timestamp(millisecondsSinceEpoch: 1_790_000_100_000))
    static let laptopY = Author(replica: "laptop-y", user: "yvonne", at: Timestamp(millisecondsSinceEpoch: 1_790_000_200_000))
    static let smallID = "11111111-0000-4000-8000-000000000001"
    static let largeID = "99999999-0000-4000-8000-000000000002"

    /// The server's states after both merges reached it.
    static func crossedBook() throws -> [RecordState] {
        var small = Fixtures.customer("Acme GmbH", id: smallID, territory: "north", by: Fixtures.server)
        try small.set("phone", to: "555-0100", by: Fixtures.server)
        var large = Fixtures.customer("ACME GmbH", id: largeID, territory: "north", by: Fixtures.server)
        try large.set("email", to: "info@acme.example", by: Fixtures.server)
        let onX = try DuplicateMerge(keep: large, drop: small, activities: [], by: laptopX)
        let onY = try DuplicateMerge(keep: small, drop: large, activities: [], by: laptopY)
        return [onX.dropped.merging(onY.kept), onX.kept.merging(onY.dropped)]
    }

    @Test func crossedMergesRestoreTheSmallestIDAsTheSurvivorAndLoseNothing() async throws {
        let book = try Self.crossedBook()
        #expect(book.allSatisfy { $0.mergedInto != nil }, "both customers are merged tombstones: none is live")
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        try CacheStore.bulkLoad(directory: dir.path + "/cache", states: [], cursor: nil)
        let server = MiniServer(territories: ["north"], pageSize: 10, book: book)
        let report = try await SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop").run(client: server)

        let crossed = report.redirected.filter(\.crossed)
        #expect(crossed.map(\.id) == [Self.largeID] && crossed.map(\.to) == [Self.smallID], "\(report.redirected)")
        #expect(report.rejected.isEmpty)
        let survivor = try #require(server.latest[Self.smallID]?.state)
        #expect(!survivor.isDeleted && survivor.deletionState == .live)
        #expect(survivor.mergedInto == nil && survivor.displayedValue(RecordState.mergedIntoField) == nil)
        #expect(survivor.displayedValue("phone") == "555-0100" && survivor.displayedValue("email") == "info@acme.example")
        let duplicate = try #require(server.latest[Self.largeID]?.state)
        #expect(duplicate.isDeleted && duplicate.mergedInto == Self.smallID)

        // The cache agrees, and a second sync has nothing more to do.
        let store = try Fixtures.open(dir, exclusive: false)
        #expect(try store.state(Self.smallID) == survivor)
        #expect(try store.pendingIDs().isEmpty)
        store.close()
        let again = try await SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop").run(client: server)
        #expect(again.pushed == 0 && again.redirected.isEmpty, "\(again.redirected)")
    }
}
