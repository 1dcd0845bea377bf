import CXModel
import CXPostgres
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import CXServer

@Suite(.serverDatabase) struct SyncAPITests {
    @Test func pushThenPullReturnsTheState() async throws {
        try await withTestApp { client, database in
            let customer = try Records.customer("Acme")
            let response = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [customer]))
            #expect(response.status == .ok)
            let sync = try SyncResponse(response.text)
            #expect(sync.changes == [customer])
            #expect(!sync.hasMore)
            #expect(sync.rejected.isEmpty)

            // A later pull from the returned cursor has nothing new.
            let again = try SyncResponse(try await client.sync(token: database.adminToken, body: Records.syncBody(cursor: sync.cursor, changes: [])).text)
            #expect(again.changes.isEmpty)
            #expect(again.cursor == sync.cursor)
        }
    }

    @Test func typedColumnsHoldDisplayedValues() async throws {
        try await withTestApp { client, database in
            var customer = try Records.customer("Acme", territory: "north")
            try customer.set("extra.industry", to: "retail", by: Records.author("laptop-a", minute: 1))
            try customer.addTag("vip", by: Records.author("laptop-a", minute: 1))
            let purchase = try Records.purchase(customer: customer.id, amount: "99.5")
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [customer, purchase]))
            let row = try await database.sql { connection in
                try connection.query(
                    """
                    SELECT c.name, c.territory, c.extra->>'industry' AS industry, array_to_string(c.tags, ',') AS tags,
                           a.amount::text AS amount, a.margin::text AS margin, a."on"::text AS on_date, a.type
                    FROM cx.customers c JOIN cx.activities a ON a.customer_id = c.id
                    """)[0].values
            }
            #expect(row == ["Acme", "north", "retail", "vip", "99.50", "0.1200", "2026-03-01", "purchase"])
        }
    }

    @Test func retriedPushIsHarmlessAndWritesNothing() async throws {
        try await withTestApp { client, database in
            let customer = try Records.customer()
            let body = Records.syncBody(changes: [customer])
            let first = try SyncResponse(try await client.sync(token: database.adminToken, body: body).text)
            let second = try SyncResponse(try await client.sync(token: database.adminToken, body: body).text)
            #expect(first.cursor == second.cursor, "an unchanged record gets no new sequence number")
            let count = try await database.sql { try $0.query("SELECT count(*) AS n FROM cx.customers")[0].decode("n", as: Int.self) }
            #expect(count == 1)
        }
    }

    @Test func concurrentEditsMergeAndConflictsAreFlagged() async throws {
        try await withTestApp { client, database in
            let origin = try Records.customer("Acme")
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [origin]))
            var onA = origin, onB = origin
            try onA.set("phone", to: "555-0101", by: Records.author("laptop-a", minute: 2))
            try onB.set("phone", to: "555-0199", by: Records.author("laptop-b", minute: 3))
            try onB.set("city", to: "Lyon", by: Records.author("laptop-b", minute: 3))
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "laptop-a", changes: [onA]))
            let response = try SyncResponse(
                try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "laptop-b", changes: [onB])).text)
            let merged = try #require(response.changes.first { $0.id == origin.id })
            #expect(merged == onA.merging(onB))
            #expect(merged.displayedValue("city") == "Lyon")
            #expect(merged.conflicts.map(\.field) == ["phone"])
            let flags = try await database.sql { connection in
                try connection.query("SELECT has_conflicts, phone, city FROM cx.customers")[0].values
            }
            #expect(flags == ["t", "555-0199", "Lyon"])
        }
    }

    @Test func pullPagesUntilDone() async throws {
        try await withTestApp { client, database in
            let customers = try (0..<25).map { try Records.customer("Customer \($0)") }
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: customers, limit: 1))
            var cursor: String?
            var received: [String] = []
            var pages = 0
            repeat {
                let page = try SyncResponse(
                    try await client.sync(token: database.adminToken, body: Records.syncBody(cursor: cursor, changes: [], limit: 10)).text)
                received += page.changes.map(\.id)
                cursor = page.cursor
                pages += 1
                if !page.hasMore { break }
            } while pages < 10
            #expect(pages == 3)
            #expect(Set(received) == Set(customers.map(\.id)))
            #expect(received.count == 25)
        }
    }

    @Test func deletionIsVisibleInTheTable() async throws {
        try await withTestApp { client, database in
            var customer = try Records.customer()
            customer.delete(by: Records.author("laptop-a", minute: 1))
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [customer]))
            let deleted = try await database.sql { try $0.query("SELECT deleted FROM cx.customers")[0].decode("deleted", as: Bool.self) }
            #expect(deleted)
        }
    }

    @Test func recordOfTheWrongKindIsRejectedPerRecord() async throws {
        try await withTestApp { client, database in
            let customer = try Records.customer()
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [customer]))
            let impostor = try RecordState.new(
                kind: .activity, id: customer.id,
                fields: ["customer_id": customer.id, "type": "touchpoint", "on": "2026-01-01", "channel": "call"],
                by: Records.author("laptop-b"))
            let other = try Records.customer("Other")
            let response = try SyncResponse(
                try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [impostor, other])).text)
            #expect(response.rejected.map(\.id) == [customer.id])
            #expect(response.rejected.map(\.code) == ["kind_mismatch"])
            #expect(response.changes.contains { $0.id == other.id }, "the rest of the batch is applied")
        }
    }
}

extension PostgresRow {
    /// The row's raw text values, for compact assertions.
    var values: [String?] {
        (0..<columns.count).map { self[$0] }
    }
}
