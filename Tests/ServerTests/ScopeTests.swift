import CXModel
import CXPostgres
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import CXServer

/// Territory scope: who pulls what, who may write what, and what happens when customers or
/// users change territory.
@Suite(.serverDatabase) struct ScopeTests {
    /// A book over two territories plus one customer without a territory, pushed by the admin.
    struct Book {
        let north: [RecordState]
        let south: RecordState
        let unassigned: RecordState
        let activities: [String: RecordState]  // by customer id

        static func make() throws -> Book {
            let north = [try Records.customer("Nord AG", territory: "north"), try Records.customer("Polar Ltd", territory: "north")]
            let south = try Records.customer("Sud SA", territory: "south")
            let unassigned = try RecordState.new(kind: .customer, fields: ["name": "Nobody's"], by: Records.author("hq"))
            var activities: [String: RecordState] = [:]
            for customer in north + [south, unassigned] {
                activities[customer.id] = try Records.purchase(customer: customer.id)
            }
            return Book(north: north, south: south, unassigned: unassigned, activities: activities)
        }

        var all: [RecordState] { north + [south, unassigned] + Array(activities.values) }

        func ids(_ customers: [RecordState]) -> Set<String> {
            Set(customers.flatMap { [$0.id, activities[$0.id]!.id] })
        }
    }

    @Test func repsAndManagersPullExactlyTheirTerritoriesAdminsEverything() async throws {
        try await withTestApp { client, database in
            let book = try Book.make()
            let admin = try SyncResponse(try await client.sync(token: database.adminToken, body: Records.syncBody(changes: book.all)).text)
            #expect(admin.rejected.isEmpty)
            #expect(admin.ids == Set(book.all.map(\.id)))
            #expect(admin.scopeRole == "admin")

            let alice = try await database.user("alice", territories: ["north"])
            let bob = try await database.user("bob", territories: ["south"])
            let carol = try await database.user("carol", role: .manager, territories: ["north", "south"])

            let north = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(changes: [])).text)
            #expect(north.ids == book.ids(book.north))
            #expect(north.scopeTerritories == ["north"] && north.scopeRole == "rep")
            let south = try SyncResponse(try await client.sync(token: bob, body: Records.syncBody(changes: [])).text)
            #expect(south.ids == book.ids([book.south]))
            let both = try SyncResponse(try await client.sync(token: carol, body: Records.syncBody(changes: [])).text)
            #expect(both.ids == book.ids(book.north + [book.south]))
            #expect(both.scopeTerritories == ["north", "south"] && both.scopeRole == "manager")

            // Paging within a scope never leaks: small pages add up to the same book.
            var cursor: String?
            var paged: Set<String> = []
            var pages = 0
            repeat {
                let page = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(cursor: cursor, changes: [], limit: 1)).text)
                paged.formUnion(page.ids)
                cursor = page.cursor
                pages += 1
                if !page.hasMore { break }
            } while pages < 20
            #expect(paged == book.ids(book.north))
        }
    }

    @Test func writesOutsideTheScopeAreRefusedPerRecordAndTheRestApplied() async throws {
        try await withTestApp { client, database in
            let book = try Book.make()
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: book.all))
            let bob = try await database.user("bob", territories: ["south"])

            var northEdit = book.north[0]
            try northEdit.set("phone", to: "555-0000", by: Records.author("bob-laptop", minute: 5))
            var southEdit = book.south
            try southEdit.set("phone", to: "555-1111", by: Records.author("bob-laptop", minute: 5))
            let newInNorth = try Records.customer("Intruder", territory: "north", replica: "bob-laptop")
            let newWithout = try RecordState.new(kind: .customer, fields: ["name": "Floating"], by: Records.author("bob-laptop"))
            let activityInNorth = try Records.purchase(customer: book.north[1].id, replica: "bob-laptop")
            let activityOfUnknown = try Records.purchase(customer: RecordID.random(), replica: "bob-laptop")
            let newInSouth = try Records.customer("Legit", territory: "south", replica: "bob-laptop")
            let activityOfNew = try Records.purchase(customer: newInSouth.id, replica: "bob-laptop")

            let response = try SyncResponse(
                try await client.sync(
                    token: bob,
                    body: Records.syncBody(
                        replica: "bob-laptop",
                        changes: [activityOfNew, northEdit, southEdit, newInNorth, newWithout, activityInNorth, activityOfUnknown, newInSouth])
                ).text)
            let codes = Dictionary(uniqueKeysWithValues: response.rejected.map { ($0.id, $0.code) })
            #expect(codes == [
                northEdit.id: "out_of_scope", newInNorth.id: "territory_not_held", newWithout.id: "territory_required",
                activityInNorth.id: "out_of_scope", activityOfUnknown.id: "unknown_customer",
            ])
            // The accepted ones are written (the activity of a customer pushed in the same request included).
            let stored = try await database.sql { connection in
                try connection.query("SELECT id::text AS id, phone FROM cx.customers ORDER BY name").map {
                    (try $0.decode("id", as: String.self), try $0.decode("phone", as: String?.self))
                }
            }
            #expect(stored.first { $0.0 == book.north[0].id }?.1 == nil, "the refused edit left no trace")
            #expect(stored.first { $0.0 == book.south.id }?.1 == "555-1111")
            #expect(stored.contains { $0.0 == newInSouth.id })
            #expect(!stored.contains { $0.0 == newInNorth.id || $0.0 == newWithout.id })
            let activityIDs = try await database.sql { connection in
                try connection.query("SELECT id::text AS id FROM cx.activities").map { try $0.decode("id", as: String.self) }
            }
            #expect(activityIDs.contains(activityOfNew.id))
            #expect(!activityIDs.contains(activityInNorth.id) && !activityIDs.contains(activityOfUnknown.id))
            #expect(response.ids == book.ids([book.south]).union([newInSouth.id, activityOfNew.id]), "bob still pulls only the south")
        }
    }

    @Test func aRepCannotMoveACustomerAManagerCanAndTheBookFollows() async throws {
        try await withTestApp { client, database in
            let book = try Book.make()
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: book.all))
            let alice = try await database.user("alice", territories: ["north"])
            let bob = try await database.user("bob", territories: ["south"])
            let carol = try await database.user("carol", role: .manager, territories: ["north", "south"])
            let aliceStart = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(changes: [])).text)
            let bobStart = try SyncResponse(try await client.sync(token: bob, body: Records.syncBody(changes: [])).text)

            let customer = book.north[0]
            var byAlice = customer
            try byAlice.set("territory", to: "south", by: Records.author("alice-laptop", minute: 3))
            let refused = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: aliceStart.cursor, changes: [byAlice])).text)
            #expect(refused.rejected.map(\.code) == ["territory_not_held"])

            var byCarol = customer
            try byCarol.set("territory", to: "south", by: Records.author("carol-laptop", minute: 4))
            let moved = try SyncResponse(try await client.sync(token: carol, body: Records.syncBody(replica: "carol-laptop", changes: [byCarol])).text)
            #expect(moved.rejected.isEmpty)

            let aliceAfter = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(cursor: refused.cursor, changes: [])).text)
            #expect(aliceAfter.removed == [customer.id])
            #expect(aliceAfter.changes.isEmpty)
            let bobAfter = try SyncResponse(try await client.sync(token: bob, body: Records.syncBody(cursor: bobStart.cursor, changes: [])).text)
            #expect(bobAfter.ids == book.ids([customer]), "the customer arrives with its activity")
            #expect(bobAfter.removed.isEmpty)
            // The manager holds both territories: nothing to remove for her.
            let carolAfter = try SyncResponse(try await client.sync(token: carol, body: Records.syncBody(cursor: moved.cursor, changes: [])).text)
            #expect(carolAfter.removed.isEmpty)
        }
    }

    @Test func offlineEditsToAReassignedCustomerAreHandedOffNotLost() async throws {
        try await withTestApp { client, database in
            let book = try Book.make()
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: book.all))
            let alice = try await database.user("alice", territories: ["north"])
            let carol = try await database.user("carol", role: .manager, territories: ["north", "south"])
            let start = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(changes: [])).text)
            let customer = book.north[0]

            // Alice edits offline while Carol moves the customer to the south.
            var offline = customer
            try offline.set("phone", to: "555-0101", by: Records.author("alice-laptop", minute: 10))
            var offlineTouch = try Records.purchase(customer: customer.id, amount: "50.00", replica: "alice-laptop")
            try offlineTouch.set("note", to: "signed at the fair", by: Records.author("alice-laptop", minute: 10))
            var moved = customer
            try moved.set("territory", to: "south", by: Records.author("carol-laptop", minute: 11))
            _ = try await client.sync(token: carol, body: Records.syncBody(replica: "carol-laptop", changes: [moved]))

            let handOff = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: start.cursor, changes: [offline, offlineTouch])).text)
            #expect(handOff.rejected.isEmpty, "edits made offline are accepted during the hand-off window")
            // Both leave her laptop once acknowledged: the customer left her territories, and
            // the purchase is the customer's.
            #expect(Set(handOff.removed) == [customer.id, offlineTouch.id])
            #expect(handOff.removed.count == 2)

            // A purchase she logged later for it, still within the window, is accepted — and
            // listed as removed too: no pull would ever deliver it or report it removed again.
            let later = try Records.purchase(customer: customer.id, amount: "75.00", replica: "alice-laptop")
            let afterwards = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: handOff.cursor, changes: [later])).text)
            #expect(afterwards.rejected.isEmpty)
            #expect(afterwards.removed == [later.id])
            let row = try await database.sql { connection in
                try connection.query("SELECT phone, territory FROM cx.customers WHERE id = \(customer.id)::uuid")[0].values
            }
            #expect(row == ["555-0101", "south"])

            // During the hand-off she still cannot take the customer back.
            var takeBack = offline
            try takeBack.set("territory", to: "north", by: Records.author("alice-laptop", minute: 20))
            let refused = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: handOff.cursor, changes: [takeBack])).text)
            #expect(refused.rejected.map(\.code) == ["territory_not_held"])

            // Once the window is over, edits are refused.
            _ = try await database.sql { try $0.query("UPDATE cx.settings SET value = '0' WHERE key = 'handoff_days'") }
            var late = offline
            try late.set("city", to: "Oslo", by: Records.author("alice-laptop", minute: 30))
            let closed = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: handOff.cursor, changes: [late])).text)
            #expect(closed.rejected.map(\.code) == ["out_of_scope"])
        }
    }

    /// An activity moved to a customer of another territory (a merge, or someone's move) is
    /// handed off like a customer that left: the rep's offline edit to it is accepted within the
    /// window (and listed removed), not refused as out of scope — but she cannot move it back.
    @Test func offlineEditsToAnActivityMovedElsewhereAreHandedOffNotLost() async throws {
        try await withTestApp { client, database in
            let book = try Book.make()
            let purchase = try Records.purchase(customer: book.north[0].id, amount: "80.00", replica: "server")
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: book.all + [purchase]))
            let alice = try await database.user("alice", territories: ["north"])
            let start = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(changes: [])).text)

            // Alice marks it paid offline; meanwhile an admin moves it to a south customer.
            var paid = purchase
            try paid.set("paid_on", to: "2026-03-10", by: Records.author("alice-laptop", minute: 10))
            var moved = purchase
            try moved.set("customer_id", to: book.south.id, by: Records.author("admin-laptop", minute: 11))
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "admin-laptop", changes: [moved]))

            let handOff = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: start.cursor, changes: [paid])).text)
            #expect(handOff.rejected.isEmpty, "\(handOff.rejected)")
            #expect(handOff.removed.contains(purchase.id))
            let row = try await database.sql { connection in
                try connection.query("SELECT paid_on::text, customer_id::text FROM cx.activities WHERE id = \(purchase.id)::uuid")[0].values
            }
            #expect(row == ["2026-03-10", book.south.id])

            // She cannot take it back to her customer.
            var back = paid
            try back.set("customer_id", to: book.north[0].id, by: Records.author("alice-laptop", minute: 20))
            let refused = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: handOff.cursor, changes: [back])).text)
            #expect(refused.rejected.map(\.code) == ["out_of_scope"])

            // Once the window is over, edits are refused.
            _ = try await database.sql { try $0.query("UPDATE cx.settings SET value = '0' WHERE key = 'handoff_days'") }
            var late = paid
            try late.set("note", to: "late", by: Records.author("alice-laptop", minute: 30))
            let closed = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: handOff.cursor, changes: [late])).text)
            #expect(closed.rejected.map(\.code) == ["out_of_scope"])
        }
    }

    @Test func losingAndGainingTerritoriesChangesTheScopeAtOnce() async throws {
        try await withTestApp { client, database in
            let book = try Book.make()
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: book.all))
            let alice = try await database.user("alice", territories: ["north"])
            let start = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(changes: [])).text)
            #expect(start.ids == book.ids(book.north))

            let user = try await database.sql { connection in
                _ = try UserStore.addTerritories(["south"], to: "alice", on: connection)
                return try UserStore.removeTerritories(["north"], from: "alice", on: connection)
            }
            #expect(user.territories == ["south"])
            // The client sees its scope changed and pulls its book again from the start.
            let rescoped = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(changes: [])).text)
            #expect(rescoped.scopeTerritories == ["south"])
            #expect(rescoped.ids == book.ids([book.south]))

            // An edit made offline to a customer of the lost territory is still accepted (hand-off)…
            var offline = book.north[1]
            try offline.set("notes", to: "call back in May", by: Records.author("alice-laptop", minute: 7))
            let handOff = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: start.cursor, changes: [offline])).text)
            #expect(handOff.rejected.isEmpty)
            #expect(!handOff.ids.contains(offline.id), "but the customer is not pulled")
            // …until the window closes.
            _ = try await database.sql { try $0.query("UPDATE cx.settings SET value = '0' WHERE key = 'handoff_days'") }
            try offline.set("notes", to: "too late", by: Records.author("alice-laptop", minute: 8))
            let closed = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: handOff.cursor, changes: [offline])).text)
            #expect(closed.rejected.map(\.code) == ["out_of_scope"])

            // Territory rows are kept as history, marked removed.
            let rows = try await database.sql { connection in
                try connection.query(
                    "SELECT territory, removed_at IS NOT NULL AS removed FROM cx.user_territories ORDER BY territory"
                ).map { try "\($0.decode("territory", as: String.self)):\($0.decode("removed", as: Bool.self))" }
            }
            #expect(rows == ["north:true", "south:false"])
        }
    }

    @Test func everyMergedWriteIsAuditedAndHistoryIsScoped() async throws {
        try await withTestApp { client, database in
            let alice = try await database.user("alice", territories: ["north"])
            let bob = try await database.user("bob", territories: ["south"])
            var customer = try Records.customer("Acme", territory: "north", replica: "alice-laptop")
            _ = try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [customer]))
            try customer.set("phone", to: "555-0101", by: Records.author("alice-laptop", minute: 2))
            try customer.addTag("vip", by: Records.author("alice-laptop", minute: 2))
            _ = try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [customer]))
            // A retry changes nothing and is not audited again.
            _ = try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [customer]))

            let customerID = customer.id
            let audit = try await database.sql { connection in
                try connection.query(
                    """
                    SELECT operation, user_name, replica_id, fields::jsonb::text AS fields FROM cx.changes
                    WHERE record_id = \(customerID)::uuid ORDER BY id
                    """
                ).map { $0.values }
            }
            #expect(audit.count == 2)
            #expect(audit.first?[0...2] == ["insert", "alice", "alice-laptop"])
            #expect(audit.last?[0] == "update")
            #expect(audit.last?[3].map { $0.contains("\"field\": \"phone\"") && $0.contains("\"to\": \"555-0101\"") && $0.contains("\"to\": \"vip\"") } == true)

            // The analyst role reads the audit trail.
            let analystCount = try await database.sql { connection in
                try connection.transaction { connection in
                    try connection.query("SET LOCAL ROLE cx_analyst")
                    return try connection.query("SELECT count(*) AS n FROM cx.field_changes")[0].decode("n", as: Int.self)
                }
            }
            #expect(analystCount >= 4)

            let history = try await client.execute(
                uri: "/v1/records/\(customer.id)/history", method: .get, headers: [.authorization: "Bearer \(alice)"])
            #expect(history.status == .ok)
            #expect(history.text.contains("\"operation\":\"insert\"") && history.text.contains("\"user\":\"alice\""))
            #expect(history.text.contains("\"replica\":\"alice-laptop\""))
            let outside = try await client.execute(
                uri: "/v1/records/\(customer.id)/history", method: .get, headers: [.authorization: "Bearer \(bob)"])
            #expect(outside.status == .notFound, "a record outside the scope looks exactly like a missing one")
            let missing = try await client.execute(
                uri: "/v1/records/\(RecordID.random())/history", method: .get, headers: [.authorization: "Bearer \(alice)"])
            #expect(missing.status == .notFound)
            #expect(outside.text.contains("\"code\":\"not_found\"") && missing.text.contains("\"code\":\"not_found\""))
            let invalid = try await client.execute(
                uri: "/v1/records/not-an-id/history", method: .get, headers: [.authorization: "Bearer \(alice)"])
            #expect(invalid.status == .badRequest)
        }
    }
}
