import CXModel
import HummingbirdTesting
import Testing

@testable import CXServer

/// A cursor ahead of the database (issued before a restore that lost its last changes) is
/// answered with `reset`, even when the request's own push takes the sequence past it: the check
/// uses the epoch read before the push wrote anything (once per group when pushes share a
/// transaction, docs/sync-protocol.md §2).
@Suite(.serverDatabase) struct CursorAheadTests {
    @Test(arguments: [true, false])
    func aCursorAheadOfTheDatabaseResetsThoughThePushPassesIt(groupCommit: Bool) async throws {
        try await withTestApp(configure: { $0.groupCommit = groupCommit }) { client, database in
            let store = RecordStore(pool: database.pool)
            let stored = try (0..<3).map { try Records.customer("Stored \($0)") }
            _ = try await store.push(stored, logger: TestDatabase.logger)
            let epoch = try await database.sql { try ServerEpoch.current(on: $0) }

            // Two numbers past the last one handed out; the push below takes five more.
            let ahead = SyncCursor.format(epoch.lastSequence + 2, epoch: epoch.id)
            let pushed = try (0..<5).map { try Records.customer("Pushed \($0)") }
            let response = try await client.sync(
                token: database.adminToken, body: PushAheadTests.body(pushed, replica: "laptop-restored", cursor: ahead))
            let reply = try PushAheadTests.reply(response)
            #expect(reply.reset, "a cursor the database never handed out must start the client over")
            #expect(reply.rejected.isEmpty)
            // Starting over delivers everything, the push's own records included (no echo is left
            // out of a page that starts over).
            let delivered = try Set(reply.changes.map { try RecordState(jsonBytes: $0, values: .stored).id })
            #expect(delivered == Set((stored + pushed).map(\.id)))

            // A cursor the database did hand out is not reset by the same kind of request.
            let current = try await database.sql { try ServerEpoch.current(on: $0) }
            let more = try (0..<5).map { try Records.customer("More \($0)") }
            let next = try PushAheadTests.reply(
                try await client.sync(
                    token: database.adminToken,
                    body: PushAheadTests.body(more, replica: "laptop-restored", cursor: SyncCursor.format(current.lastSequence, epoch: current.id))))
            #expect(!next.reset)
        }
    }
}
