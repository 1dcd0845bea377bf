import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer

/// `omit_echoes`: a pull that follows a push leaves out exactly the states the push left as
/// their writer sent them and that nobody changed since — never anything the writer lacks.
@Suite(.serverDatabase) struct EchoOmissionTests {
    @Test func pushedStatesComeBackOnlyWhenNotAskedToBeLeftOut() async throws {
        try await withTestApp { client, database in
            let acme = try Records.customer("Acme")
            let bistro = try Records.customer("Bistro")
            let plain = try SyncResponse(
                try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [acme])).text)
            #expect(plain.features == ["omit_echoes", "compact_states", "push_ahead", "snapshot"])
            #expect(plain.ids == [acme.id])

            let omitted = try SyncResponse(
                try await client.sync(
                    token: database.adminToken, body: Records.syncBody(cursor: plain.cursor, changes: [bistro], omitEchoes: true)
                ).text)
            #expect(omitted.changes.isEmpty)
            #expect(omitted.rejected.isEmpty)
            #expect(omitted.cursor != plain.cursor, "the cursor moves past the left-out state")
            // Nothing is waiting behind the cursor, and everyone else still receives both.
            let after = try SyncResponse(
                try await client.sync(token: database.adminToken, body: Records.syncBody(cursor: omitted.cursor, changes: [])).text)
            #expect(after.changes.isEmpty)
            let other = try SyncResponse(
                try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "laptop-b", changes: [])).text)
            #expect(other.ids == [acme.id, bistro.id])
        }
    }

    @Test func aStateMergedWithWhatTheServerHeldIsSentBack() async throws {
        try await withTestApp { client, database in
            let origin = try Records.customer("Acme")
            let first = try SyncResponse(
                try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "laptop-b", changes: [origin])).text)
            var onB = origin, onA = origin
            try onB.set("city", to: "Lyon", by: Records.author("laptop-b", minute: 2))
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "laptop-b", changes: [onB]))
            try onA.set("phone", to: "555-0101", by: Records.author("laptop-a", minute: 3))
            let untouched = try Records.customer("Untouched")

            let reply = try SyncResponse(
                try await client.sync(
                    token: database.adminToken,
                    body: Records.syncBody(cursor: first.cursor, changes: [onA, untouched], omitEchoes: true)
                ).text)
            // The merge added laptop-b's city: laptop-a lacks it, so it comes back; the new
            // customer is stored exactly as sent and stays out.
            #expect(reply.ids == [origin.id])
            #expect(reply.changes.first == onA.merging(onB))
        }
    }

    @Test func aRecordSentTwiceInOneRequestIsSentBack() async throws {
        try await withTestApp { client, database in
            var one = try Records.customer("Acme"), two = one
            try one.set("phone", to: "555-0101", by: Records.author("laptop-a", minute: 1))
            try two.set("city", to: "Lyon", by: Records.author("laptop-a", minute: 2))
            let reply = try SyncResponse(
                try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [one, two], omitEchoes: true)).text)
            #expect(reply.changes == [one.merging(two)])
        }
    }

    @Test func aWriteAfterThePushIsDeliveredThoughThePushWroteTheRecordAsSent() async throws {
        try await withTestDatabase { database in
            let store = RecordStore(pool: database.pool)
            var acme = try Records.customer("Acme")
            let outcome = try await store.push([acme], logger: TestDatabase.logger)
            let echoes = try #require(outcome.echoes)
            #expect(echoes.ids == [acme.id])
            #expect(try await store.pull(after: 0, limit: 10, omitting: echoes).states.isEmpty)

            // Someone else writes the record before the pull runs: its new sequence number is
            // above the push's, so the pull delivers it.
            try acme.set("city", to: "Lyon", by: Records.author("laptop-b", minute: 5))
            _ = try await store.push([acme], as: .system(name: "bob", replica: "laptop-b"), logger: TestDatabase.logger)
            let page = try await store.pull(after: 0, limit: 10, omitting: echoes)
            #expect(page.states.count == 1)
            #expect(page.echoes == 0)
        }
    }

    @Test func aRepsPageLeavesOutHerEchoesAndKeepsRemovals() async throws {
        try await withTestApp { client, database in
            let alice = try await database.user("alice", territories: ["north"])
            let mine = try Records.customer("Mine", territory: "north", replica: "alice-laptop")
            let moving = try Records.customer("Moving", territory: "north", replica: "admin-laptop")
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "admin-laptop", changes: [moving]))
            let start = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [])).text)
            #expect(start.ids == [moving.id])

            var moved = moving
            try moved.set("territory", to: "south", by: Records.author("admin-laptop", minute: 4))
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "admin-laptop", changes: [moved]))
            let reply = try SyncResponse(
                try await client.sync(
                    token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: start.cursor, changes: [mine], omitEchoes: true)
                ).text)
            #expect(reply.changes.isEmpty)
            #expect(reply.removed == [moving.id])
            #expect(reply.rejected.isEmpty)
        }
    }
}
