import CXModel
import Testing
@testable import CXClient

/// Pushes ahead (SyncSession+PushAhead.swift): with a server that takes them, a push goes out
/// while the one before is answered, under the same tokens; when the request before is not
/// answered with a page (too large, forked) the pushes ahead are dropped and their states go
/// again — every record arrives, none is lost or reported twice.
@Suite struct PushAheadTests {
    func customers(_ count: Int) -> [RecordState] {
        (0..<count).map { Fixtures.customer("Customer \($0)", territory: "north") }
    }

    func pending(_ dir: TemporaryDirectory, _ states: [RecordState]) throws {
        let store = try Fixtures.open(dir)
        defer { store.close() }
        try store.commit(states.map { .init(state: $0, pending: true) })
    }

    func engine(_ dir: TemporaryDirectory) -> SyncEngine {
        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.batchSize = 10
        engine.pageLimit = 10
        return engine
    }

    func server() -> MiniServer {
        let server = MiniServer(territories: ["north"], pageSize: 10, book: [])
        server.pushesAhead = true
        return server
    }

    func expectEverythingArrived(_ states: [RecordState], at server: MiniServer, from dir: TemporaryDirectory) throws {
        #expect(Set(server.latest.keys) == Set(states.map(\.id)))
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        #expect(try store.pendingIDs().isEmpty)
    }

    @Test func pushesGoAheadUnderTheSameTokensAndEverythingArrivesOnce() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let states = customers(60)
        try pending(dir, states)
        let server = server()
        let report = try await engine(dir).run(client: server)
        #expect(report.pushed == 60)
        #expect(report.rejected.isEmpty)
        #expect(report.reincarnated == nil, "the server's token rule admitted every push ahead")
        #expect(server.pushOnlyRequests >= 4, "pushes went ahead")
        #expect(server.pushed.count == 60, "each state went once")
        try expectEverythingArrived(states, at: server, from: dir)
        let again = try await engine(dir).run(client: server)
        #expect(again.pushed == 0)
    }

    @Test(arguments: [2, 3, 4])
    func aRequestTooLargeWhileAPushIsAheadDropsItAndEverythingStillArrives(failing request: Int) async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let states = customers(60)
        try pending(dir, states)
        let server = server()
        server.tooLargeAt = request
        let report = try await engine(dir).run(client: server)
        #expect(report.rejected.isEmpty, "a batch of several is split, not reported")
        #expect(report.pushed == 60, "a dropped answer is not counted; the states go again")
        #expect(report.reincarnated == nil)
        try expectEverythingArrived(states, at: server, from: dir)
    }

    @Test(arguments: [3, 4])
    func aForkWhileAPushIsAheadContinuesAsANewIncarnationWithoutLoss(forkedAt request: Int) async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let states = customers(60)
        try pending(dir, states)
        let server = server()
        server.forkAt = request
        let report = try await engine(dir).run(client: server)
        #expect(report.reincarnated != nil)
        #expect(server.replicaIDs.count == 2, "the old incarnation, then one new one")
        #expect(report.rejected.isEmpty)
        try expectEverythingArrived(states, at: server, from: dir)
    }

    /// A push ahead dropped after a 413 or a fork of the request before it is read again: a
    /// refusal found while reading it (an incomplete state, never pushed) must be reported once,
    /// not once per reading — the drop takes back what reading the dropped push reported.
    @Test(arguments: [(tooLargeAt: 4, forkAt: nil), (5, nil), (nil, 4), (nil, 5)] as [(Int?, Int?)])
    func aRefusalReadIntoADroppedPushIsReportedOnce(tooLargeAt: Int?, forkAt: Int?) async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        // Customers go first, then activities: the incomplete purchase is read into the last
        // batch, a push ahead of request 5 or 6.
        let states = customers(55)
        var incomplete = Fixtures.purchase(of: states[0].id)
        try incomplete.set("amount", to: nil, by: Fixtures.author)
        try pending(dir, states + [incomplete])
        let server = server()
        server.tooLargeAt = tooLargeAt
        server.forkAt = forkAt
        let report = try await engine(dir).run(client: server)
        #expect(report.rejected.map(\.id) == [incomplete.id], "reported once: \(report.rejected)")
        #expect(!server.pushed.contains(incomplete.id))
        #expect(Set(server.latest.keys) == Set(states.map(\.id)))
        #expect(server.pushOnlyRequests >= 1)
    }

    @Test func withoutTheFeatureOneRequestIsWithTheServerAtATime() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let states = customers(30)
        try pending(dir, states)
        let server = MiniServer(territories: ["north"], pageSize: 10, book: [])
        let report = try await engine(dir).run(client: server)
        #expect(report.pushed == 30)
        #expect(server.pushOnlyRequests == 0)
    }
}
