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
        // More customers than the sync remembers.
        let newcomers = (1...4).map { Fixtures.customer("Newcomer \($0)", territory: "north") }
        let server = try InterruptedRedirectTests.latePhoneOnAMergedDuplicate(in: dir, newcomers: newcomers)

        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.touchedLimit = 2
        let report = try await engine.run(client: server)
        #expect(report.redirected.map(\.id) == [InterruptedRedirectTests.duplicateID], "\(report.redirected)")
        let onServer = try #require(server.latest[InterruptedRedirectTests.survivorID]?.state)
        #expect(onServer.register("phone")?.entries.contains { $0.value == "555-0199" } == true, "the late phone reached the survivor")
    }
}
