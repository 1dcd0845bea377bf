import CXModel
import Testing
@testable import CXClient

/// A sync that touches more records than it remembers (``TouchedRecords``, a large first sync)
/// still moves the late edits of a merged duplicate to its survivor: it looks at every cached
/// customer that may be merged instead.
@Suite struct TouchedRecordsTests {
    @Test func pastItsLimitTheSetForgetsItsIDsForGood() {
        var touched = TouchedRecords(limit: 3)
        touched.formUnion(["a", "b"])
        touched.formUnion(["b", "c"])
        #expect(touched.ids == ["a", "b", "c"])
        touched.formUnion(["d"])
        #expect(touched.ids == nil)
        touched.formUnion([String]())
        #expect(touched.ids == nil, "once forgotten, the ids stay unknown")
    }

    @Test func aSyncThatTouchedTooManyRecordsStillRedirectsAMergedDuplicate() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let survivor = Fixtures.customer("Acme GmbH", id: InterruptedRedirectTests.survivorID, territory: "north", by: Fixtures.server)
        let duplicate = Fixtures.customer("ACME GmbH", id: InterruptedRedirectTests.duplicateID, territory: "north", by: Fixtures.server)
        try CacheStore.bulkLoad(directory: dir.path + "/cache", states: [survivor, duplicate], cursor: "p11")
        // Elsewhere: the duplicate merged into the survivor. Here, offline: a phone for the
        // duplicate, and customers enough to overflow what the sync remembers.
        let elsewhere = Author(replica: "laptop-z", user: "zoe", at: Timestamp(millisecondsSinceEpoch: 1_790_000_500_000))
        let merged = try DuplicateMerge(keep: survivor, drop: duplicate, activities: [], by: elsewhere)
        let server = MiniServer(territories: ["north"], pageSize: 10, book: [survivor, duplicate, merged.kept, merged.dropped])
        let store = try Fixtures.open(dir)
        var edited = duplicate
        try edited.set("phone", to: "555-0199", by: Fixtures.author)
        let newcomers = (1...4).map { Fixtures.customer("Newcomer \($0)", territory: "north") }
        try store.commit([.init(state: edited, pending: true)] + newcomers.map { .init(state: $0, pending: true) }, scope: server.scope)
        store.close()

        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.touchedLimit = 2
        let report = try await engine.run(client: server)
        #expect(report.redirected.map(\.id) == [InterruptedRedirectTests.duplicateID], "\(report.redirected)")
        let onServer = try #require(server.latest[InterruptedRedirectTests.survivorID]?.state)
        #expect(onServer.register("phone")?.entries.contains { $0.value == "555-0199" } == true, "the late phone reached the survivor")
    }
}
