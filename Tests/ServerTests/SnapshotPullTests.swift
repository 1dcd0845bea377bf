import CXModel
import CXPostgres
import HummingbirdTesting
import Testing

@testable import CXServer

/// Snapshot requests (docs/sync-protocol.md §2a): the scope in id order, customers first, in
/// pages; the regular pulls after the last page deliver everything that changed meanwhile.
@Suite(.serverDatabase) struct SnapshotPullTests {
    /// A snapshot request body.
    static func body(cursor: String?, limit: Int, replica: String = "laptop-new", extra: String = "") -> String {
        var w = JSONWriter()
        w.raw("{\"replica_id\":")
        w.string(replica)
        w.raw(",\"cursor\":")
        w.optionalString(cursor)
        return String(decoding: w.bytes, as: UTF8.self) + ",\"changes\":[],\"limit\":\(limit),\"snapshot\":true\(extra)}"
    }

    /// Requests a snapshot page by page (calling `between` after each page) and returns the
    /// pages' replies; the last one ends the snapshot.
    static func pages(
        _ client: any TestClientProtocol, token: String, limit: Int, between: (Int) async throws -> Void = { _ in }
    ) async throws -> [SyncReply] {
        var replies: [SyncReply] = []
        var cursor: String?
        repeat {
            let response = try await client.sync(token: token, body: body(cursor: cursor, limit: limit))
            #expect(response.status == .ok, "\(response.text)")
            let reply = try SyncReply(parsing: Array(response.text.utf8))
            replies.append(reply)
            cursor = reply.cursor
            try await between(replies.count)
        } while replies.last?.snapshot == true && replies.count < 100
        return replies
    }

    /// Ids of the states of `replies`, in order.
    static func ids(_ replies: [SyncReply]) throws -> [String] {
        try replies.flatMap { try $0.changes.map { try RecordState(jsonBytes: $0, values: .stored).id } }
    }

    @Test func theScopeComesInIDOrderCustomersFirstAcrossPages() async throws {
        try await withTestApp { client, database in
            let store = RecordStore(pool: database.pool)
            let customers = try (0..<7).map { try Records.customer("Customer \($0)") }
            let activities = try customers.prefix(5).map { try Records.purchase(customer: $0.id) }
            _ = try await store.push(customers + activities, logger: TestDatabase.logger)

            let replies = try await Self.pages(client, token: database.adminToken, limit: 3)
            #expect(try Self.ids(replies) == customers.map(\.id).sorted() + activities.map(\.id).sorted())
            #expect(replies.dropLast().allSatisfy { $0.snapshot == true && $0.changes.count == 3 && $0.hasMore })
            let last = try #require(replies.last)
            #expect(last.snapshot == false)
            // The last page's cursor is a regular one, at the snapshot's start: nothing after it.
            let epoch = try await database.sql { try ServerEpoch.current(on: $0) }
            #expect(last.cursor == SyncCursor.format(epoch.lastSequence, epoch: epoch.id))
            #expect(replies.allSatisfy { $0.features.contains(.snapshot) && $0.scope?.role == .admin })
            let after = try SyncResponse(
                try await client.sync(token: database.adminToken, body: Records.syncBody(cursor: last.cursor, changes: [])).text)
            #expect(after.changes.isEmpty && !after.hasMore)
        }
    }

    @Test func whatChangesDuringASnapshotFollowsItsLastPage() async throws {
        try await withTestApp { client, database in
            let store = RecordStore(pool: database.pool)
            let customers = try (0..<9).map { try Records.customer("Customer \($0)") }.sorted { $0.id < $1.id }
            _ = try await store.push(customers, logger: TestDatabase.logger)
            var edited = customers[0]
            try edited.set("city", to: "Lyon", by: Records.author("laptop-b", minute: 5))
            let added = try Records.customer("Added meanwhile")
            let purchase = try Records.purchase(customer: customers[8].id)

            // After the first page: an edit of a record already delivered, a new customer (its
            // id anywhere) and an activity of a customer not reached yet.
            let replies = try await Self.pages(client, token: database.adminToken, limit: 2) { page in
                if page == 1 { _ = try await store.push([edited, added, purchase], logger: TestDatabase.logger) }
            }
            var held: [String: RecordState] = [:]
            for state in try replies.flatMap({ try $0.changes.map { try RecordState(jsonBytes: $0, values: .stored) } }) {
                held[state.id] = held[state.id].map { $0.merging(state) } ?? state
            }
            var cursor = replies.last?.cursor
            var more = true
            while more {
                let page = try SyncResponse(
                    try await client.sync(token: database.adminToken, body: Records.syncBody(cursor: cursor, changes: [])).text)
                for state in page.changes { held[state.id] = held[state.id].map { $0.merging(state) } ?? state }
                cursor = page.cursor
                more = page.hasMore
            }
            // The client holds exactly what the server holds.
            let everything = try SyncResponse(
                try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "auditor", changes: [], limit: 100)).text)
            #expect(held.count == everything.changes.count)
            for state in everything.changes { #expect(held[state.id] == state, "record \(state.id)") }
            #expect(held[edited.id]?.displayedValue("city") == "Lyon")
        }
    }

    @Test func aRepsSnapshotHoldsTheirTerritoriesAndALeaverFollowsAsRemoved() async throws {
        try await withTestApp { client, database in
            let store = RecordStore(pool: database.pool)
            let north = try (0..<4).map { try Records.customer("North \($0)", territory: "north") }.sorted { $0.id < $1.id }
            let south = try (0..<3).map { try Records.customer("South \($0)", territory: "south") }
            let activities = try (north + south).map { try Records.purchase(customer: $0.id) }
            _ = try await store.push(north + south + activities, logger: TestDatabase.logger)
            let alice = try await database.user("alice", territories: ["north"])

            var leaver = north[0]
            try leaver.set("territory", to: "south", by: Records.author("hq", minute: 9))
            // The leaver goes once its page is in: the snapshot's activities, read later, leave its own out.
            let replies = try await Self.pages(client, token: alice, limit: 3) { page in
                if page == 1 { _ = try await store.push([leaver], logger: TestDatabase.logger) }
            }
            let stayingActivities = activities.filter { activity in north.dropFirst().contains { $0.id == activity.displayedValue("customer_id") } }
            #expect(try Self.ids(replies) == north.map(\.id) + stayingActivities.map(\.id).sorted())
            #expect(replies.allSatisfy { $0.scope?.territories == ["north"] })
            let after = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(cursor: replies.last?.cursor, changes: [])).text)
            #expect(after.removed == [leaver.id])
        }
    }

    @Test func aSnapshotCursorGoesOnWithItsSnapshotAndAPushGoesFirst() async throws {
        try await withTestApp { client, database in
            let store = RecordStore(pool: database.pool)
            let customers = try (0..<4).map { try Records.customer("Customer \($0)") }
            _ = try await store.push(customers, logger: TestDatabase.logger)
            // A snapshot request may push: the push is written first, and the snapshot holds it.
            let pushed = try Records.customer("Pushed with the snapshot")
            let pushBody = Records.syncBody(changes: [pushed], limit: 2)
            let first = try await client.sync(token: database.adminToken, body: pushBody.dropLast() + ",\"snapshot\":true}")
            #expect(first.status == .ok, "\(first.text)")
            let page = try SyncReply(parsing: Array(first.text.utf8))
            #expect(page.snapshot == true && page.rejected.isEmpty)
            // Its cursor goes on with the snapshot, with or without the flag.
            let next = try SyncReply(parsing: Array(try await client.sync(
                token: database.adminToken, body: Records.syncBody(cursor: page.cursor, changes: [], limit: 10)).text.utf8))
            #expect(next.snapshot == false)
            #expect(try Self.ids([page, next]) == (customers + [pushed]).map(\.id).sorted())
            // With a regular cursor the flag asks for nothing more than the page after it.
            let regular = try SyncReply(parsing: Array(try await client.sync(
                token: database.adminToken, body: Self.body(cursor: next.cursor, limit: 10)).text.utf8))
            #expect(regular.snapshot == nil && regular.changes.isEmpty && !regular.hasMore)
            for garbage in ["s1", "s01.0bc9085e6177.c", "s1.0bc9085e6177.x", "s1.0BC9085E6177.c", "s1.0bc9085e6177.c.not-an-id"] {
                let response = try await client.sync(token: database.adminToken, body: Self.body(cursor: garbage, limit: 10))
                #expect(response.status == .badRequest, "\(garbage)")
                #expect(response.text.contains("invalid_cursor"), "\(garbage)")
            }
        }
    }

    @Test func aSnapshotCursorOfAnotherEpochBeginsTheSnapshotAgain() async throws {
        try await withTestApp { client, database in
            let store = RecordStore(pool: database.pool)
            let customers = try (0..<3).map { try Records.customer("Customer \($0)") }
            _ = try await store.push(customers, logger: TestDatabase.logger)
            let first = try SyncReply(
                parsing: Array(try await client.sync(token: database.adminToken, body: Self.body(cursor: nil, limit: 1)).text.utf8))
            let cursor = try #require(first.cursor)
            try await database.sql { try ServerEpoch.renew(on: $0) }
            let again = try SyncReply(
                parsing: Array(try await client.sync(token: database.adminToken, body: Self.body(cursor: cursor, limit: 10)).text.utf8))
            #expect(again.reset)
            #expect(try Self.ids([again]) == customers.map(\.id).sorted())
            #expect(again.snapshot == false)
        }
    }
}
