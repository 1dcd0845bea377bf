import CXModel
import Testing
@testable import CXClient

/// A rescope (the user's territories changed, the whole book is pulled again) interrupted at
/// any request, then interrupted again while resuming, must end with exactly the new book:
/// every in-scope record present (pending local work included), everything else dropped.
@Suite struct RescopeInterruptionTests {
    static let northEast = SyncScope(role: .rep, territories: ["east", "north"])

    struct Setup {
        let dir: TemporaryDirectory
        let server: MiniServer
        let localCustomer: RecordState
        let editedNorth: RecordState
        let eastIDs: Set<String>
    }

    /// A cache that synced north and east; the server now gives the user north only, in pages
    /// of two. Offline, the user edited a north customer and added one.
    func setUp() throws -> Setup {
        let dir = TemporaryDirectory()
        var book: [RecordState] = []
        for index in 1...4 {
            let customer = Fixtures.customer("North \(index)", territory: "north", by: Fixtures.server)
            book += [customer, Fixtures.activity(of: customer.id)]
        }
        let east = Fixtures.customer("East", territory: "east", by: Fixtures.server)
        let eastVisit = Fixtures.activity(of: east.id)
        book += [east, eastVisit]
        try CacheStore.bulkLoad(directory: dir.path + "/cache", states: book, cursor: "p5")
        let store = try Fixtures.open(dir)
        defer { store.close() }
        try store.commit([], scope: Self.northEast)
        var editedNorth = book[2]
        try editedNorth.set("phone", to: "555-0101", by: Fixtures.author)
        let localCustomer = Fixtures.customer("New North", territory: "north")
        try store.commit([.init(state: editedNorth, pending: true), .init(state: localCustomer, pending: true)])
        let server = MiniServer(territories: ["north"], pageSize: 2, book: book)
        return Setup(dir: dir, server: server, localCustomer: localCustomer, editedNorth: editedNorth, eastIDs: [east.id, eastVisit.id])
    }

    func engine(_ dir: TemporaryDirectory) -> SyncEngine {
        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.batchSize = 1
        return engine
    }

    /// Checks the cache holds exactly the server's book for the user, with the offline work.
    func expectExactBook(_ setup: Setup, _ comment: Comment) throws {
        let store = try Fixtures.open(setup.dir, exclusive: false)
        defer { store.close() }
        #expect(Set(try store.records().map(\.id)) == setup.server.book, comment)
        #expect(store.isRescoping == false, comment)
        #expect(try store.pendingIDs().isEmpty, comment)
        #expect(try store.state(setup.editedNorth.id)?.displayedValue("phone") == "555-0101", comment)
        #expect(try store.state(setup.localCustomer.id) != nil, comment)
        for id in setup.eastIDs { #expect(try store.state(id) == nil, comment) }
    }

    @Test func aRescopeInterruptedAtAnyRequestAndAgainWhileResumingEndsWithExactlyTheNewBook() async throws {
        // Requests of an uninterrupted run, to know every point to interrupt at.
        let reference = try setUp()
        defer { reference.dir.cleanup() }
        _ = try await engine(reference.dir).run(client: reference.server)
        try expectExactBook(reference, "uninterrupted")
        let requests = reference.server.requests
        #expect(requests >= 5)

        var cases: [(first: Int, second: Int?, losesReply: Bool)] = []
        for first in 1...requests {
            for second in [Int?]([nil]) + (1...requests).map(Optional.some) {
                cases += [(first, second, false), (first, second, true)]
            }
        }
        for (first, second, losesReply) in cases {
            let setup = try setUp()
            defer { setup.dir.cleanup() }
            setup.server.failAt = first
            setup.server.losesReply = losesReply
            await #expect(throws: CXError.self) { try await engine(setup.dir).run(client: setup.server) }
            var finished = false
            if let second {
                // Interrupted again while resuming (the server counts requests across runs).
                setup.server.failAt = setup.server.requests + second
                do {
                    _ = try await engine(setup.dir).run(client: setup.server)
                    finished = true
                } catch is CXError {}
            }
            setup.server.failAt = nil
            if !finished { _ = try await engine(setup.dir).run(client: setup.server) }
            try expectExactBook(
                setup, "interrupted at request \(first) (\(losesReply ? "reply lost" : "request lost")), then at \(second.map(String.init) ?? "none")")
        }
    }

    @Test func aRecordKeptForItsChangesIsDroppedWithItsAckSoAnInterruptionCannotStrandIt() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        // Offline: a customer and its visit; the customer leaves the scope in the first reply,
        // while the visit is still unpushed (kept); the second reply acknowledges the visit;
        // the third request fails.
        let customer = Fixtures.customer("Handed off", territory: "east", by: Fixtures.author)
        let visit = Fixtures.activity(of: customer.id, by: Fixtures.author)
        try CacheStore.bulkLoad(directory: dir.path + "/cache", states: [], cursor: "c1")
        let store = try Fixtures.open(dir)
        try store.commit([], scope: Self.northEast)
        try store.commit([.init(state: customer, pending: true), .init(state: visit, pending: true)])
        store.close()
        let transport = FakeTransport([
            { _ in SyncResponse(changes: [], cursor: "c2", hasMore: true, removed: [customer.id], scope: Self.northEast) },
            { _ in SyncResponse(changes: [], cursor: "c3", hasMore: true, scope: Self.northEast) },
            { _ in throw CXError(.unavailable, "cannot reach the server") },
        ])
        var engine = engine(dir)
        engine.batchSize = 1
        await #expect(throws: CXError.self) { try await engine.run(client: transport) }
        #expect(try transport.envelopes.map(Envelope.pushedIDs) == [[customer.id], [visit.id], []])
        let reader = try Fixtures.open(dir, exclusive: false)
        defer { reader.close() }
        // The server will not report the customer removed again (the cursor is past it).
        #expect(reader.cursor == "c3")
        #expect(try reader.state(visit.id) == nil, "the acknowledged visit left with the reply that acknowledged it")
        #expect(try reader.state(customer.id) == nil)
        #expect(try reader.pendingIDs().isEmpty)
    }
}
