import CXModel
import Testing
@testable import CXClient

/// The client asks the server to leave its echoes out (`omit_echoes`) only when that cannot
/// cost it anything: after the server said it understands the option (older servers refuse
/// unknown request keys), for requests that push something, and never during a rescope (which
/// drops whatever its pages do not deliver).
@Suite struct EchoOmissionRequestTests {
    static let scope = SyncScope(user: "alice", role: .rep, territories: ["north"])

    func asksToOmit(_ envelope: [UInt8]) throws -> Bool {
        try SyncEnvelope(reading: envelope).omitsEchoes
    }

    func pendingCustomers(_ count: Int, in dir: TemporaryDirectory) throws {
        let store = try Fixtures.open(dir)
        defer { store.close() }
        for index in 0..<count {
            try store.commit([.init(state: Fixtures.customer("C\(index)", territory: "north"), pending: true)])
        }
    }

    @Test func asksOnlyAfterTheServerListedTheOption() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        try pendingCustomers(3, in: dir)
        let reply: ([UInt8]) throws -> SyncResponse = { _ in
            SyncResponse(changes: [], cursor: "c1", hasMore: false, scope: Self.scope, features: [.omitEchoes])
        }
        let transport = FakeTransport([reply, reply, reply])
        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.batchSize = 1
        let report = try await engine.run(client: transport)
        #expect(report.pushed == 3)
        #expect(try transport.envelopes.map(asksToOmit) == [false, true, true])
    }

    @Test func anOlderServerIsNeverAsked() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        try pendingCustomers(3, in: dir)
        let reply: ([UInt8]) throws -> SyncResponse = { _ in SyncResponse(changes: [], cursor: "c1", hasMore: false, scope: Self.scope) }
        let transport = FakeTransport([reply, reply, reply])
        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.batchSize = 1
        _ = try await engine.run(client: transport)
        #expect(try transport.envelopes.map(asksToOmit) == [false, false, false])
    }

    @Test func aRescopeAsksForEveryState() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        try pendingCustomers(4, in: dir)
        let widened = SyncScope(user: "alice", role: .rep, territories: ["north", "south"])
        let transport = FakeTransport([
            { _ in SyncResponse(changes: [], cursor: "c1", hasMore: false, scope: Self.scope, features: [.omitEchoes]) },
            // The scope changes: a rescope starts and pulls from the beginning.
            { _ in SyncResponse(changes: [], cursor: "c2", hasMore: false, scope: widened, features: [.omitEchoes]) },
            { _ in SyncResponse(changes: [], cursor: "c3", hasMore: false, scope: widened, features: [.omitEchoes]) },
            { _ in SyncResponse(changes: [], cursor: "c4", hasMore: false, scope: widened, features: [.omitEchoes]) },
        ])
        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.batchSize = 1
        let report = try await engine.run(client: transport)
        #expect(report.scopeChanged)
        #expect(try transport.envelopes.map(asksToOmit) == [false, true, false, false])
    }
}
