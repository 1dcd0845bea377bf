import CXModel
import Testing
@testable import CXClient

/// A sync that stops after applying a page but before moving the late edits of a merged
/// duplicate to its survivor (killed, or the server gone mid-way) must not lose that move: the
/// next sync pulls nothing new about the duplicate, so it finds the unfinished redirect by the
/// marker the first one left and looks at every merged customer of the cache.
@Suite struct InterruptedRedirectTests {
    static let survivorID = "ffffffff-0000-4000-8000-000000000001"
    static let duplicateID = "00000000-0000-4000-8000-000000000002"

    /// A cache holding a survivor and its duplicate; elsewhere, the duplicate was merged into
    /// the survivor (the server the returned `MiniServer` plays holds the merge). Here, offline:
    /// a phone for the duplicate (which the merge did not see) and `newcomers`, all pending.
    static func latePhoneOnAMergedDuplicate(in dir: TemporaryDirectory, newcomers: [RecordState]) throws -> MiniServer {
        let survivor = Fixtures.customer("Acme GmbH", id: survivorID, territory: "north", by: Fixtures.server)
        let duplicate = Fixtures.customer("ACME GmbH", id: duplicateID, territory: "north", by: Fixtures.server)
        try CacheStore.bulkLoad(directory: dir.path + "/cache", states: [survivor, duplicate], cursor: "p11")
        let elsewhere = Author(replica: "laptop-z", user: "zoe", at: Timestamp(millisecondsSinceEpoch: 1_790_000_500_000))
        let merged = try DuplicateMerge(keep: survivor, drop: duplicate, activities: [], by: elsewhere)
        let server = MiniServer(territories: ["north"], pageSize: 10, book: [survivor, duplicate, merged.kept, merged.dropped])
        let store = try Fixtures.open(dir)
        defer { store.close() }
        var edited = duplicate
        try edited.set("phone", to: "555-0199", by: Fixtures.author)
        try store.commit([.init(state: edited, pending: true)] + newcomers.map { .init(state: $0, pending: true) }, scope: server.scope)
        return server
    }

    @Test func aRedirectInterruptedBySyncFailureHappensAtTheNextSync() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        // The phone and a new customer go in separate requests.
        let newcomer = Fixtures.customer("Zeta Ltd", id: "99999999-0000-4000-8000-000000000009", territory: "north")
        let server = try Self.latePhoneOnAMergedDuplicate(in: dir, newcomers: [newcomer])

        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.batchSize = 1
        // The first request pushes the phone and pulls the merge; the second never arrives.
        server.failAt = 2
        await #expect(throws: (any Error).self) { try await engine.run(client: server) }
        #expect(POSIX.exists(dir.path + "/cache/" + SyncEngine.redirectDueFile))

        server.failAt = nil
        let report = try await engine.run(client: server)
        #expect(report.redirected.map(\.id) == [Self.duplicateID], "\(report.redirected)")
        let onServer = try #require(server.latest[Self.survivorID]?.state)
        #expect(onServer.register("phone")?.entries.contains { $0.value == "555-0199" } == true, "the late phone reached the survivor")
        #expect(!POSIX.exists(dir.path + "/cache/" + SyncEngine.redirectDueFile))
    }
}
