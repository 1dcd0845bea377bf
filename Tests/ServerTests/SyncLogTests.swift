import HTTPTypes
import HummingbirdTesting
import InMemoryLogging
import Logging
import NIOCore
import Testing

@testable import CXServer

/// Every sync logs one line with its request id, user, replica, status and duration — failed
/// ones too, so operators can see who is failing and how.
@Suite(.serverDatabase) struct SyncLogTests {
    @Test func eachSyncLogsStatusAndDuration() async throws {
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "cx.test.sync-log") { _ in handler }
        try await withTestApp(logger: logger) { client, database in
            let ok = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "laptop-log", changes: []))
            #expect(ok.status == .ok)
            let bad = try await client.sync(token: database.adminToken, body: "{\"replica_id\": 5}")
            #expect(bad.status == .badRequest)
        }
        let entries = handler.entries
        let success = try #require(entries.first { $0.message.description == "sync" }, "\(entries)")
        #expect(success.level == .info)
        #expect(success.metadata["status"]?.description == "200")
        #expect(success.metadata["user"]?.description == "admin")
        #expect(success.metadata["replica"]?.description == "laptop-log")
        #expect(success.metadata["hb.request.id"] != nil)
        #expect(Double(success.metadata["duration_ms"]?.description ?? "") != nil)
        let failure = try #require(entries.first { $0.message.description == "sync failed" }, "\(entries)")
        #expect(failure.metadata["status"]?.description == "400")
        #expect(failure.metadata["user"]?.description == "admin")
        #expect(Double(failure.metadata["duration_ms"]?.description ?? "") != nil)
    }
}
