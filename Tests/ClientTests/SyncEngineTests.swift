import CXModel
import Foundation
import Testing
@testable import CXClient

/// A scripted server: records the envelopes it receives and answers from a list of replies.
final class FakeTransport: SyncTransport, @unchecked Sendable {
    // Safe: the engine calls `sync` sequentially from one task; tests read after `run` returns.
    var envelopes: [[UInt8]] = []
    var replies: [([UInt8]) throws -> SyncResponse]
    var onExchange: ((Int) throws -> Void)?

    init(_ replies: [([UInt8]) throws -> SyncResponse]) {
        self.replies = replies
    }

    func sync(_ envelope: [UInt8]) async throws -> SyncResponse {
        envelopes.append(envelope)
        try onExchange?(envelopes.count)
        guard envelopes.count <= replies.count else { throw CXError(.unavailable, "no more scripted replies") }
        return try replies[envelopes.count - 1](envelope)
    }
}

@Suite struct SyncEngineTests {
    func envelopeStates(_ envelope: [UInt8]) throws -> [RecordState] {
        var raws: [[UInt8]] = []
        try JSONScanner.scan(envelope) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                if key == "changes" {
                    try scanner.array { scanner throws(JSONScanner.Failure) in
                        raws.append(try scanner.rawValue())
                    }
                } else {
                    try scanner.skipValue()
                }
            }
        }
        return try raws.map { try RecordState(jsonBytes: $0) }
    }

    @Test func pushesInBatchesPullsPagesAndClearsPendingOnlyForUnchangedRecords() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let customers = (0..<5).map { Fixtures.customer("C\($0)") }
        var store = try Fixtures.open(dir)
        try store.commit(customers.map { .init(state: $0, pending: true) })
        store.close()
        let remote = Fixtures.customer("Remote", by: Author(replica: "server-side", user: "zoe"))
        final class Box: @unchecked Sendable { var rejected = ""; var edited = "" }  // used from one task
        let box = Box()
        let decode = { (envelope: [UInt8]) throws -> [String] in try self.envelopeStates(envelope).map(\.id) }
        let transport = FakeTransport([
            { _ in SyncResponse(changes: [], cursor: "c1", hasMore: true) },
            { envelope in
                box.rejected = try decode(envelope)[0]
                return SyncResponse(changes: [remote.jsonBytes()], cursor: "c2", hasMore: true,
                                    rejected: [.init(id: box.rejected, code: RecordRejection.Code(rawValue: "forbidden"), message: "no")])
            },
            { _ in SyncResponse(changes: [], cursor: "c3", hasMore: false) },
        ])
        // While the third request is in flight, the user edits the record it pushes.
        transport.onExchange = { count in
            guard count == 3 else { return }
            box.edited = try decode(transport.envelopes[2])[0]
            let writer = try Fixtures.open(dir)
            defer { writer.close() }
            var state = try #require(try writer.state(box.edited))
            try state.set("phone", to: "555", by: Fixtures.author)
            try writer.commit([.init(state: state, pending: true)])
        }
        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.batchSize = 2
        let report = try await engine.run(client: transport)

        #expect(transport.envelopes.count == 3)
        #expect(try transport.envelopes.map { try envelopeStates($0).count } == [2, 2, 1])
        #expect(report.pushed == 4)
        #expect(report.pulled == 1)
        #expect(report.rejected.map(\.id) == [box.rejected])
        store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        #expect(store.cursor == "c3")
        #expect(store.lastSync != nil)
        #expect(try store.state(remote.id) == remote)
        #expect(try store.isPending(remote.id) == false)
        // Rejected and edited-during-sync records stay pending; the others are acknowledged.
        #expect(Set(try store.pendingIDs()) == [box.rejected, box.edited])
        #expect(try store.state(box.edited)?.displayedValue("phone") == "555")
    }

    @Test func anInterruptedSyncKeepsTheAppliedPagesAndResumesFromTheirCursor() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let first = Fixtures.customer("First", by: Author(replica: "other"))
        let second = Fixtures.customer("Second", by: Author(replica: "other"))
        let failing = FakeTransport([
            { _ in SyncResponse(changes: [first.jsonBytes()], cursor: "c1", hasMore: true) },
            { _ in throw CXError(.unavailable, "cannot reach the server") },
        ])
        // The regular first sync: the journal keeps every applied page (a snapshot pull starts over).
        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.pullsSnapshot = false
        await #expect(throws: CXError.self) { try await engine.run(client: failing) }
        var store = try Fixtures.open(dir, exclusive: false)
        #expect(store.cursor == "c1")
        #expect(try store.state(first.id) == first)
        #expect(store.lastSync == nil)
        store.close()

        let resuming = FakeTransport([{ envelope in
            #expect(String(decoding: envelope, as: UTF8.self).contains("\"cursor\":\"c1\""))
            return SyncResponse(changes: [second.jsonBytes()], cursor: "c2", hasMore: false)
        }])
        let report = try await engine.run(client: resuming)
        #expect(report.pulled == 1)
        store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        #expect(try store.state(second.id) == second)
        #expect(store.cursor == "c2")
    }

    @Test func pulledConcurrentEditsMergeIntoPendingRecordsAndCountConflicts() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let base = Fixtures.customer("Acme")
        var local = base, remote = base
        try local.set("phone", to: "1", by: Author(replica: "test-laptop", user: "alice", at: Timestamp(millisecondsSinceEpoch: 5)))
        try remote.set("phone", to: "2", by: Author(replica: "other", user: "bob", at: Timestamp(millisecondsSinceEpoch: 6)))
        let store = try Fixtures.open(dir)
        try store.commit([.init(state: local, pending: true)])
        store.close()
        let transport = FakeTransport([{ _ in SyncResponse(changes: [Array(remote.jsonString().utf8)], cursor: "c1", hasMore: false) }])
        let report = try await SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop").run(client: transport)
        #expect(report.conflicts == 1)
        let reader = try Fixtures.open(dir, exclusive: false)
        defer { reader.close() }
        #expect(try reader.state(base.id) == local.merging(remote))
        #expect(try reader.conflictedIDs() == [base.id])
        // Pushed and acknowledged before the merge, so nothing is pending any more... but the
        // merged state holds nothing new of ours either.
        #expect(try reader.isPending(base.id) == false)
    }
}
