import CXModel
import Testing
@testable import CXClient

/// The tombstone of a merge made on this laptop goes to the server only after the survivor
/// that took the duplicate's values: when the server refuses the survivor, the tombstone stays
/// pending and is reported as waiting, so the duplicate's values never stand on a deleted
/// record alone (``MergeHold``).
@Suite struct MergeHoldTests {
    // The duplicate sorts first, so a plain push order would send it before the survivor.
    static let survivorID = "ffffffff-0000-4000-8000-000000000001"
    static let duplicateID = "00000000-0000-4000-8000-000000000002"

    /// A cache holding two north customers from the server; offline, the user merged the
    /// duplicate into the survivor, then moved the survivor to `survivorTerritory`.
    func setUp(survivorTerritory: String) throws -> (dir: TemporaryDirectory, server: MiniServer) {
        let dir = TemporaryDirectory()
        let survivor = Fixtures.customer("Acme GmbH", id: Self.survivorID, territory: "north", by: Fixtures.server)
        var duplicate = Fixtures.customer("ACME GmbH", id: Self.duplicateID, territory: "north", by: Fixtures.server)
        try duplicate.set("phone", to: "555-0100", by: Fixtures.server)
        try CacheStore.bulkLoad(directory: dir.path + "/cache", states: [survivor, duplicate], cursor: "p11")
        let store = try Fixtures.open(dir)
        defer { store.close() }
        let merge = try DuplicateMerge(keep: survivor, drop: duplicate, activities: [], by: Fixtures.author)
        var kept = merge.kept
        if survivorTerritory != "north" { try kept.set("territory", to: survivorTerritory, by: Fixtures.author) }
        try store.commit([kept, merge.dropped].map { CacheStore.Change(state: $0, pending: true) })
        return (dir, MiniServer(territories: ["north"], pageSize: 10, book: [survivor, duplicate]))
    }

    func engine(_ dir: TemporaryDirectory) -> SyncEngine {
        SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
    }

    @Test func aMergeWhoseSurvivorTheServerRefusesStaysPendingAndIsReportedAsWaiting() async throws {
        let (dir, server) = try setUp(survivorTerritory: "south")
        defer { dir.cleanup() }
        let report = try await engine(dir).run(client: server)

        #expect(server.pushed == [Self.survivorID], "the tombstone is never sent while its survivor is refused")
        #expect(report.rejected.map(\.id) == [Self.survivorID, Self.duplicateID])
        let waiting = try #require(report.rejected.last)
        #expect(waiting.code == .mergeWaiting)
        #expect(waiting.message.contains("ffffffff") && waiting.message.contains("refused"), "\(waiting.message)")
        // The server still shows the duplicate, with its phone; the laptop keeps the merge.
        let onServer = try #require(server.latest[Self.duplicateID]?.state)
        #expect(!onServer.isDeleted && onServer.displayedValue("phone") == "555-0100")
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        #expect(try store.pendingIDs() == [Self.duplicateID, Self.survivorID])
        #expect(try store.state(Self.duplicateID)?.mergedInto == Self.survivorID)
    }

    @Test func aMergeWhoseSurvivorIsAcceptedSendsTheTombstoneAfterItInTheSameSync() async throws {
        let (dir, server) = try setUp(survivorTerritory: "north")
        defer { dir.cleanup() }
        let report = try await engine(dir).run(client: server)

        #expect(server.pushed == [Self.survivorID, Self.duplicateID])
        #expect(report.rejected.isEmpty, "\(report.rejected)")
        #expect(report.pushed == 2)
        let survivor = try #require(server.latest[Self.survivorID]?.state)
        #expect(survivor.displayedValue("phone") == "555-0100", "the survivor took the duplicate's phone")
        let duplicate = try #require(server.latest[Self.duplicateID]?.state)
        #expect(duplicate.isDeleted && duplicate.mergedInto == Self.survivorID)
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        #expect(try store.pendingIDs().isEmpty)
    }

    /// The duplicate was merged here into a new customer the server refuses, and meanwhile
    /// elsewhere into another, live one — whose pointer then displays. The tombstone carries
    /// this laptop's merge too (its values went to the refused customer only): it still waits.
    @Test func aTombstoneWaitsForEverySurvivorItsPointerNamesNotOnlyTheDisplayedOne() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let other = Fixtures.customer("Acme Holding", id: "55555555-0000-4000-8000-000000000003", territory: "north", by: Fixtures.server)
        var duplicate = Fixtures.customer("ACME GmbH", id: Self.duplicateID, territory: "north", by: Fixtures.server)
        try duplicate.set("phone", to: "555-0100", by: Fixtures.server)
        try CacheStore.bulkLoad(directory: dir.path + "/cache", states: [other, duplicate], cursor: "p11")
        // Elsewhere, later: the duplicate merged into `other`.
        let elsewhere = Author(replica: "laptop-z", user: "zoe", at: Timestamp(millisecondsSinceEpoch: 1_790_000_500_000))
        let mergedElsewhere = try DuplicateMerge(keep: other, drop: duplicate, activities: [], by: elsewhere)
        let server = MiniServer(territories: ["north"], pageSize: 10, book: [other, duplicate, mergedElsewhere.kept, mergedElsewhere.dropped])
        // Here: a new customer in a territory the user does not hold, and the duplicate merged into it.
        let store = try Fixtures.open(dir)
        let refused = Fixtures.customer("Acme GmbH", id: Self.survivorID, territory: "south")
        let merge = try DuplicateMerge(keep: refused, drop: duplicate, activities: [], by: Fixtures.author)
        var kept = merge.kept
        try kept.set("territory", to: "south", by: Fixtures.author)
        try store.commit([kept, merge.dropped].map { CacheStore.Change(state: $0, pending: true) })
        store.close()

        let report = try await engine(dir).run(client: server)
        #expect(!server.pushed.contains(Self.duplicateID), "the tombstone carrying this laptop's merge is never sent: \(server.pushed)")
        #expect(report.rejected.first { $0.id == Self.duplicateID }?.code == .mergeWaiting, "\(report.rejected)")
        let reader = try Fixtures.open(dir, exclusive: false)
        defer { reader.close() }
        let local = try #require(try reader.state(Self.duplicateID))
        #expect(local.mergedInto == other.id, "the other merge displays")
        #expect(try reader.isPending(Self.duplicateID))
    }
}
