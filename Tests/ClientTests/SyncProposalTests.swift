import CXModel
import Testing
@testable import CXClient

/// A sync proposal whose reply never came is the one key a restored or copied cache shares
/// with its other copy, so no request under it carries a write made after it (seed 1800010).
@Suite struct SyncProposalTests {
    /// A server that records what each request carried and can lose one request entirely.
    final class RecordingServer: SyncTransport, @unchecked Sendable {
        // Safe: the engine calls `sync` sequentially from one task; tests read after `run` returns.
        struct Request {
            var syncToken: String?
            var nextSyncToken: String?
            var pushed: [String]
        }
        private(set) var requests: [Request] = []
        /// The request number (1-based) that never reaches the server.
        var failAt: Int?

        func sync(_ envelope: [UInt8]) async throws -> SyncResponse {
            var request = Request(syncToken: nil, nextSyncToken: nil, pushed: try Envelope.pushedIDs(envelope))
            try JSONScanner.scan(envelope) { scanner throws(JSONScanner.Failure) in
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    switch key {
                    case "sync_token": request.syncToken = try scanner.consumeNull() ? nil : scanner.string()
                    case "next_sync_token": request.nextSyncToken = try scanner.consumeNull() ? nil : scanner.string()
                    default: try scanner.skipValue()
                    }
                }
            }
            requests.append(request)
            if requests.count == failAt { throw CXError(.unavailable, "cannot reach the server (test)") }
            return SyncResponse(changes: [], cursor: "c\(requests.count)", hasMore: false)
        }
    }

    let engine = { (dir: TemporaryDirectory) in SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop") }

    /// Writes a new customer as the cache's incarnation (as `cx add` does).
    func add(_ name: String, in dir: TemporaryDirectory) throws -> String {
        let store = try Fixtures.open(dir)
        defer { store.close() }
        let incarnation = try store.incarnation(base: "test-laptop")
        let author = Author(replica: incarnation.id, user: "alice", at: .now(), counterFloor: incarnation.counter)
        let state = Fixtures.customer(name, by: author)
        try store.commit([.init(state: state, pending: true)])
        return state.id
    }

    func incarnation(_ dir: TemporaryDirectory) throws -> ReplicaIncarnation {
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        return try #require(store.replica)
    }

    @Test func writesMadeAfterAnUnansweredProposalGoOnlyUnderTheNextOne() async throws {
        let dir = TemporaryDirectory()
        let first = try add("Acme", in: dir)
        let server = RecordingServer()
        server.failAt = 1
        await #expect(throws: CXError.self) { try await engine(dir).run(client: server) }
        let unanswered = try incarnation(dir)
        let proposal = try #require(unanswered.proposedToken)
        #expect(unanswered.proposedCounter == unanswered.counter)

        let second = try add("Globex", in: dir)
        _ = try await engine(dir).run(client: server)
        #expect(server.requests.count == 3)
        let (settle, push) = (server.requests[1], server.requests[2])
        #expect(settle.nextSyncToken == proposal, "the old proposal is settled first")
        #expect(settle.pushed.isEmpty, "…by a request that carries no write made after it")
        #expect(push.syncToken == proposal && push.nextSyncToken != proposal)
        #expect(Set(push.pushed) == [first, second])
        let after = try incarnation(dir)
        #expect(after.syncedCounter == after.counter && after.proposedToken == nil)
    }

    @Test func aRetryWithNothingWrittenSinceGoesOutAsBefore() async throws {
        let dir = TemporaryDirectory()
        let first = try add("Acme", in: dir)
        let server = RecordingServer()
        server.failAt = 1
        await #expect(throws: CXError.self) { try await engine(dir).run(client: server) }
        _ = try await engine(dir).run(client: server)
        #expect(server.requests.count == 2)
        #expect(server.requests[1].nextSyncToken == server.requests[0].nextSyncToken)
        #expect(server.requests[1].pushed == [first])
    }

    /// A proposal stored by an older cx does not say what its request carried: it is settled,
    /// and confirms no more than was confirmed before.
    @Test func aProposalFromAnOlderCxIsSettledWithoutClaimingMore() async throws {
        let dir = TemporaryDirectory()
        let first = try add("Acme", in: dir)
        do {
            let store = try Fixtures.open(dir)
            defer { store.close() }
            var old = try #require(store.replica)
            old.proposedToken = "from-an-older-cx"
            old.proposedCounter = nil
            try store.commit([], replica: old)
        }
        let server = RecordingServer()
        server.failAt = 1
        await #expect(throws: CXError.self) { try await engine(dir).run(client: server) }
        #expect(server.requests[0].nextSyncToken == "from-an-older-cx")
        #expect(server.requests[0].pushed.isEmpty)
        #expect(try incarnation(dir).syncedCounter == 0)

        _ = try await engine(dir).run(client: server)
        #expect(server.requests.map(\.pushed) == [[], [], [first]])
    }
}
