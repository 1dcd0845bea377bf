import CXModel
import Foundation
import Testing
@testable import CXClient

/// The work a sync does while the server works (SyncSession+Overlap.swift): the next page is
/// requested before the last one is applied, under the token the server just accepted, and
/// dropped when applying the page changed what the next request must be; the next push batch
/// is checked ahead, and a state changed since is checked again.
@Suite struct SyncOverlapTests {
    /// ``MiniServer`` behind the real server's token rule (``ReplicaRegistry``): a request is
    /// admitted when the stored token is the one it presents or the one it proposes, which
    /// becomes the stored one; others get `409 replica_forked`. Records each request.
    final class TokenServer: SyncTransport, @unchecked Sendable {
        // Safe: the engine has one request in flight at a time (an answer no longer wanted is
        // awaited before the next request goes out, a request chained after another goes out
        // once that one is answered: ``mostInFlight`` checks it); tests read after `run` returns.
        struct Request: Equatable {
            var replica = ""
            var cursor: String?
            var token: String?
            var nextToken: String?
            var pushed: Int
        }
        let books: MiniServer
        private(set) var requests: [Request] = []
        /// The stored token of each replica.
        private(set) var tokens: [String: String] = [:]
        /// Runs before request number `n` (1-based) is answered.
        var before: ((Int, TokenServer) async throws -> Void)?
        /// The most requests the server was answering at once.
        var mostInFlight: Int { counter.mostAtOnce }
        private let counter = InFlightCounter()

        init(_ books: MiniServer) { self.books = books }

        /// Another copy of the cache synced as the replica of the last request: its proposal
        /// is now the stored token.
        func anotherCopySynced() { tokens[requests.last?.replica ?? ""] = "token-of-another-copy" }

        func sync(_ envelope: [UInt8]) async throws -> SyncResponse {
            counter.enter()
            defer { counter.leave() }
            var request = Request(cursor: try Envelope.cursor(envelope), pushed: try Envelope.pushedIDs(envelope).count)
            try JSONScanner.scan(envelope) { scanner throws(JSONScanner.Failure) in
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    switch key {
                    case "replica_id": request.replica = try scanner.string()
                    case "sync_token": request.token = try scanner.consumeNull() ? nil : scanner.string()
                    case "next_sync_token": request.nextToken = try scanner.consumeNull() ? nil : scanner.string()
                    default: try scanner.skipValue()
                    }
                }
            }
            requests.append(request)
            try await before?(requests.count, self)
            if let stored = tokens[request.replica], stored != request.token, stored != request.nextToken {
                throw ReplicaForked(message: "replica has synced from another copy (test)")
            }
            if let next = request.nextToken { tokens[request.replica] = next }
            return try await books.sync(envelope)
        }
    }

    /// Counts the requests being answered, from any thread.
    final class InFlightCounter: @unchecked Sendable {
        // Safe: `current` and `most` are only touched while `guarding` is held.
        private let guarding = NSLock()
        private var current = 0
        private var most = 0

        var mostAtOnce: Int { guarding.withLock { most } }

        func enter() {
            guarding.withLock {
                current += 1
                most = Swift.max(most, current)
            }
        }

        func leave() { guarding.withLock { current -= 1 } }
    }

    /// An engine for the regular first sync (these scripts answer every request as a regular
    /// one; ``SnapshotPullClientTests`` covers the snapshot's).
    func engine(_ dir: TemporaryDirectory) -> SyncEngine {
        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.pullsSnapshot = false
        return engine
    }

    func cachedIDs(_ dir: TemporaryDirectory) throws -> Set<String> {
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        return Set(try store.records().map(\.id))
    }

    static func book(_ count: Int, territory: String = "north") -> [RecordState] {
        (0..<count).map { Fixtures.customer("Customer \($0)", territory: territory, by: Fixtures.server) }
    }

    @Test func laterPagesAreRequestedAheadUnderTheAcceptedTokenAndNoneIsWasted() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let book = Self.book(14)
        let server = TokenServer(MiniServer(territories: ["north"], pageSize: 3, book: book))
        // Answers that take a while: the request for a page goes out as soon as the page before
        // it is in (chained), while the pages before that are still decoded and applied.
        server.before = { _, _ in try await Task.sleep(for: .milliseconds(20)) }
        let report = try await engine(dir).run(client: server)
        #expect(report.pulled == 14)
        #expect(server.mostInFlight == 1, "one request at a time at the server")
        #expect(try cachedIDs(dir) == Set(book.map(\.id)))
        // Five pages, five requests: the first proposes a token, the others present it as
        // both current and next, each from the cursor of the page before.
        #expect(server.requests.count == 5)
        let first = try #require(server.requests.first)
        let accepted = try #require(first.nextToken)
        #expect(first.token != accepted)
        #expect(server.requests.dropFirst().allSatisfy { $0.token == accepted && $0.nextToken == accepted && $0.pushed == 0 })
        #expect(server.requests.map(\.cursor) == [nil, "p12", "p15", "p18", "p21"])

        // The next sync proposes a new token again, from the token the pages left.
        _ = try await engine(dir).run(client: server)
        let again = try #require(server.requests.last)
        #expect(again.token == accepted)
        #expect(again.nextToken != accepted)
    }

    @Test func aPageThatStartsARescopeDropsTheRequestSentAhead() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let north = Self.book(7)
        let east = Self.book(5, territory: "east")
        let books = MiniServer(territories: ["north"], pageSize: 3, book: north + east)
        let server = TokenServer(books)
        // The user's territories change while the first pages are pulled: the second reply
        // names the new scope, which restarts the pull from the beginning.
        server.before = { number, _ in if number == 2 { books.territories = ["east"] } }
        let report = try await engine(dir).run(client: server)
        #expect(report.rescoped)
        #expect(try cachedIDs(dir) == Set(east.map(\.id)), "only the new territory's customers are kept")
        let cursors = server.requests.map(\.cursor)
        // Request 3 went out ahead from page 2's cursor and was dropped; the pull restarted.
        #expect(cursors.count > 4)
        #expect(cursors[0] == nil && cursors[1] == "p12" && cursors[2] != nil && cursors[3] == nil, "\(cursors)")
        #expect(server.requests.allSatisfy { $0.pushed == 0 })
    }

    @Test func aRequestSentAheadIsRefusedWhenAnotherCopySyncedMeanwhile() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let book = Self.book(9)
        let server = TokenServer(MiniServer(territories: ["north"], pageSize: 3, book: book))
        server.before = { number, server in if number == 2 { server.anotherCopySynced() } }
        let report = try await engine(dir).run(client: server)
        #expect(report.reincarnated != nil, "the cache continues as a new replica")
        #expect(try cachedIDs(dir) == Set(book.map(\.id)))
        #expect(server.requests[1].token == server.requests[0].nextToken, "the refused request presented the accepted token")
    }

    @Test func aStateChangedAfterItWasCheckedAheadIsCheckedAgain() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let owner = Fixtures.customer("Owner", territory: "north")
        let purchases = (0..<4).map { _ in Fixtures.purchase(of: owner.id) }
        let store = try Fixtures.open(dir)
        try store.commit(([owner] + purchases).map { .init(state: $0, pending: true) })
        store.close()
        let books = MiniServer(territories: ["north"], pageSize: 100, book: [])
        let server = TokenServer(books)
        // While the first batch is with the server (the second was checked meanwhile), a
        // purchase of the second batch becomes incomplete, as an older cx could write it. Pushes
        // go customers first, then activities, each in id order: batches of two are
        // [owner, 1st purchase], [2nd, 3rd], [4th].
        let broken = try #require(purchases.sorted { $0.id < $1.id }.dropFirst(2).first)
        server.before = { number, _ in
            guard number == 1 else { return }
            // Give the sync the moment it needs to check the next batch ahead.
            try await Task.sleep(for: .milliseconds(300))
            let store = try Fixtures.open(dir)
            defer { store.close() }
            var incomplete = try #require(try store.state(broken.id))
            try incomplete.set("amount", to: nil, by: Fixtures.author)
            try store.commit([.init(state: incomplete, pending: true)])
        }
        var engine = engine(dir)
        engine.batchSize = 2
        let report = try await engine.run(client: server)
        #expect(report.rejected.map(\.id) == [broken.id])
        #expect(report.rejected.map(\.code) == [.incompleteRecord])
        #expect(!books.pushed.contains(broken.id), "never pushed")
        #expect(Set(books.pushed) == Set(([owner] + purchases).map(\.id)).subtracting([broken.id]))
    }
}
