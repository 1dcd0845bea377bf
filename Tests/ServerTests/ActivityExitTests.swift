import CXModel
import CXPostgres
import HummingbirdTesting
import Testing

@testable import CXServer

/// An activity moved to a customer of another territory leaves the old territory's books, like
/// a customer that moves (issue 10: no double-counted revenue, nothing stuck on a laptop).
@Suite(.serverDatabase) struct ActivityExitTests {
    @Test func anActivityMovedToAnotherTerritorysCustomerIsRemovedForTheOldTerritoryOnly() async throws {
        try await withTestApp { client, database in
            let nord = try Records.customer("Nord AG", territory: "north")
            let sud = try Records.customer("Sud SA", territory: "south")
            let purchase = try Records.purchase(customer: nord.id)
            let staying = try Records.purchase(customer: nord.id)
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [nord, sud, purchase, staying]))
            let alice = try await database.user("alice", territories: ["north"])
            let bob = try await database.user("bob", territories: ["south"])
            let carol = try await database.user("carol", role: .manager, territories: ["north", "south"])
            let aliceStart = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(changes: [])).text)
            #expect(aliceStart.ids == [nord.id, purchase.id, staying.id])
            let bobStart = try SyncResponse(try await client.sync(token: bob, body: Records.syncBody(changes: [])).text)
            let carolStart = try SyncResponse(try await client.sync(token: carol, body: Records.syncBody(changes: [])).text)

            // The purchase was booked on the wrong customer: the manager moves it to Sud SA.
            var moved = purchase
            try moved.set("customer_id", to: sud.id, by: Records.author("carol-laptop", minute: 5))
            let write = try SyncResponse(
                try await client.sync(token: carol, body: Records.syncBody(replica: "carol-laptop", cursor: carolStart.cursor, changes: [moved])).text)
            #expect(write.rejected.isEmpty)

            let aliceAfter = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(cursor: aliceStart.cursor, changes: [])).text)
            #expect(aliceAfter.removed == [purchase.id], "north no longer sees the purchase")
            #expect(aliceAfter.changes.isEmpty)
            let bobAfter = try SyncResponse(try await client.sync(token: bob, body: Records.syncBody(cursor: bobStart.cursor, changes: [])).text)
            #expect(bobAfter.ids == [purchase.id], "south receives it")
            #expect(bobAfter.removed.isEmpty)
            let carolAfter = try SyncResponse(try await client.sync(token: carol, body: Records.syncBody(cursor: write.cursor, changes: [])).text)
            #expect(carolAfter.removed.isEmpty, "a manager of both territories still sees it")

            // A full pull of north agrees: the moved purchase is not in alice's book any more.
            let aliceFull = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(changes: [])).text)
            #expect(aliceFull.ids == [nord.id, staying.id])
            #expect(!aliceFull.removed.contains(staying.id))

            // Moved back, it returns to north and is no longer reported removed there.
            var back = moved
            try back.set("customer_id", to: nord.id, by: Records.author("carol-laptop", minute: 6))
            _ = try await client.sync(token: carol, body: Records.syncBody(replica: "carol-laptop", changes: [back]))
            let aliceBack = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(cursor: aliceAfter.cursor, changes: [])).text)
            #expect(aliceBack.ids == [purchase.id])
            #expect(aliceBack.removed.isEmpty)
            let bobBack = try SyncResponse(try await client.sync(token: bob, body: Records.syncBody(cursor: bobAfter.cursor, changes: [])).text)
            #expect(bobBack.removed == [purchase.id])
        }
    }
}
