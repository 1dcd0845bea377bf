import CXModel
import CXPostgres
import Testing

@testable import CXServer

/// SQL writes take part in the merge like any replica's: a concurrent offline edit becomes a
/// conflict (never lost), a delete concurrent with an edit a keep/delete conflict, a
/// resolution covers every candidate, and a territory move hands the customer over.
@Suite(.serverDatabase) struct SQLWriteConvergenceTests {
    @Test func aConcurrentOfflineEditBecomesAConflictAndResolveCoversEveryCandidate() async throws {
        try await withTestApp { client, database in
            let customer = try Records.customer("Acme GmbH", territory: "north", replica: "hq")
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "hq", changes: [customer]))
            let alice = try await database.user("alice", territories: ["north"])
            let start = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [])).text)

            var offline = customer
            try offline.set("phone", to: "555-0101", by: Records.author("alice-laptop", minute: 5))
            try await database.sql { try $0.query("SELECT cx.set_field(\(customer.id)::uuid, 'phone', '555-0199')") }
            let pushed = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: start.cursor, changes: [offline])).text)
            #expect(pushed.rejected.isEmpty)

            try await database.sql { connection in
                let state = try SQLWriting.state(customer.id, on: connection)
                #expect(Set(state.register("phone")?.entries.compactMap(\.value) ?? []) == ["555-0101", "555-0199"], "neither edit is lost")
                let view = try SQLWriting.rows(
                    "SELECT kind, field, jsonb_path_query_array(candidates, '$[*].value')::text AS vals FROM cx.conflicts WHERE record = \(customer.id)::uuid",
                    on: connection)
                #expect(view.count == 1 && view[0]["field"] == "phone" && view[0]["kind"] == "customer")
                #expect(try connection.query("SELECT has_conflicts FROM cx.customers WHERE id = \(customer.id)::uuid")[0][0] == "t")
                #expect(try SQLWriting.stateFunctionDifferences(state, on: connection) == [])
                #expect(try Self.viewAgreesWithFlags(on: connection))

                try connection.query("SELECT cx.resolve(\(customer.id)::uuid, 'phone', '555-0101')")
                let resolved = try SQLWriting.state(customer.id, on: connection)
                #expect(resolved.register("phone")?.entries.count == 1)
                #expect(!resolved.hasConflicts)
                #expect(try connection.query("SELECT count(*) FROM cx.conflicts")[0][0] == "0")
                #expect(try Self.viewAgreesWithFlags(on: connection))
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
            }
            // The laptop pulls the resolution: it supersedes its own entry too.
            let pulled = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: pushed.cursor, changes: [])).text)
            let laptop = offline.merging(try #require(pulled.changes.first { $0.id == customer.id }))
            #expect(!laptop.hasConflicts)
            #expect(laptop.displayedValue("phone") == "555-0101")
        }
    }

    @Test func aDeleteConcurrentWithAnOfflineEditIsAKeepOrDeleteConflict() async throws {
        try await withTestApp { client, database in
            let customer = try Records.customer("Acme GmbH", territory: "north", replica: "hq")
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "hq", changes: [customer]))
            let alice = try await database.user("alice", territories: ["north"])
            let start = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [])).text)

            var offline = customer
            try offline.set("city", to: "Berlin", by: Records.author("alice-laptop", minute: 5))
            try await database.sql { try $0.query("SELECT cx.delete_record(\(customer.id)::uuid)") }
            let pushed = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: start.cursor, changes: [offline])).text)
            #expect(pushed.rejected.isEmpty)

            try await database.sql { connection in
                let state = try SQLWriting.state(customer.id, on: connection)
                #expect(state.deletionState == .conflicted)
                let row = try SQLWriting.rows(
                    "SELECT deleted, has_conflicts, city FROM cx.customers WHERE id = \(customer.id)::uuid", on: connection)[0]
                #expect(row["deleted"] == "f" && row["has_conflicts"] == "t" && row["city"] == "Berlin")
                let view = try SQLWriting.rows(
                    "SELECT field, jsonb_path_query_array(candidates, '$[*].value')::text AS vals FROM cx.conflicts", on: connection)
                #expect(view.count == 1 && view[0]["field"] == "deleted" && view[0]["vals"] == #"["keep", "delete"]"#)
                #expect(try SQLWriting.stateFunctionDifferences(state, on: connection) == [])
                #expect(try Self.viewAgreesWithFlags(on: connection))

                let wrong = SQLWriting.error { try connection.query("SELECT cx.resolve(\(customer.id)::uuid, 'deleted', 'maybe')") }
                #expect(wrong?.sqlState == "22023")
                try connection.query("SELECT cx.resolve(\(customer.id)::uuid, 'deleted', 'keep')")
                let kept = try SQLWriting.state(customer.id, on: connection)
                #expect(kept.deletionState == .live && !kept.hasConflicts)
                #expect(kept.displayedValue("city") == "Berlin")
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
            }
        }
    }

    @Test func aTerritoryMoveBySQLHandsTheCustomerOver() async throws {
        try await withTestApp { client, database in
            let customer = try Records.customer("Acme GmbH", territory: "north", replica: "hq")
            let purchase = try Records.purchase(customer: customer.id, replica: "hq")
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "hq", changes: [customer, purchase]))
            let alice = try await database.user("alice", territories: ["north"])
            let amy = try await database.user("amy", territories: ["north"])
            let bob = try await database.user("bob", territories: ["south"])
            let aliceStart = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [])).text)
            let amyStart = try SyncResponse(try await client.sync(token: amy, body: Records.syncBody(replica: "amy-laptop", changes: [])).text)
            let bobStart = try SyncResponse(try await client.sync(token: bob, body: Records.syncBody(replica: "bob-laptop", changes: [])).text)
            #expect(amyStart.ids == [customer.id, purchase.id])
            #expect(bobStart.ids.isEmpty)

            var offline = customer
            try offline.set("phone", to: "555-0101", by: Records.author("alice-laptop", minute: 5))
            try await database.sql { try $0.query("SELECT cx.set_field(\(customer.id)::uuid, 'territory', 'south')") }

            // The new territory's rep receives the customer and its purchase.
            let bobAfter = try SyncResponse(
                try await client.sync(token: bob, body: Records.syncBody(replica: "bob-laptop", cursor: bobStart.cursor, changes: [])).text)
            #expect(bobAfter.ids == [customer.id, purchase.id])
            // The old territory's rep is told to drop it.
            let amyAfter = try SyncResponse(
                try await client.sync(token: amy, body: Records.syncBody(replica: "amy-laptop", cursor: amyStart.cursor, changes: [])).text)
            #expect(amyAfter.removed == [customer.id])
            #expect(amyAfter.changes.isEmpty)
            // An offline edit made before the move is accepted (hand-off) and leaves the laptop.
            let handOff = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: aliceStart.cursor, changes: [offline])).text)
            #expect(handOff.rejected.isEmpty)
            #expect(handOff.removed.contains(customer.id))

            try await database.sql { connection in
                let row = try SQLWriting.rows("SELECT phone, territory FROM cx.customers WHERE id = \(customer.id)::uuid", on: connection)[0]
                #expect(row["phone"] == "555-0101" && row["territory"] == "south")
                let exits = try SQLWriting.rows("SELECT territory FROM cx.territory_exits WHERE customer_id = \(customer.id)::uuid", on: connection)
                #expect(exits.map { $0["territory"] ?? nil } == ["north"])
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
            }
        }
    }

    @Test func anActivityMovedToAnotherCustomerBySQLFollowsItsNewTerritory() async throws {
        try await withTestApp { client, database in
            let north = try Records.customer("Nord AG", territory: "north", replica: "hq")
            let south = try Records.customer("Sud SA", territory: "south", replica: "hq")
            let purchase = try Records.purchase(customer: north.id, replica: "hq")
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "hq", changes: [north, south, purchase]))
            let alice = try await database.user("alice", territories: ["north"])
            let bob = try await database.user("bob", territories: ["south"])
            let aliceStart = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [])).text)
            let bobStart = try SyncResponse(try await client.sync(token: bob, body: Records.syncBody(replica: "bob-laptop", changes: [])).text)
            #expect(aliceStart.ids.contains(purchase.id) && !bobStart.ids.contains(purchase.id))

            try await database.sql { try $0.query("SELECT cx.set_field(\(purchase.id)::uuid, 'customer_id', \(south.id))") }

            let aliceAfter = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", cursor: aliceStart.cursor, changes: [])).text)
            #expect(aliceAfter.removed == [purchase.id])
            let bobAfter = try SyncResponse(
                try await client.sync(token: bob, body: Records.syncBody(replica: "bob-laptop", cursor: bobStart.cursor, changes: [])).text)
            #expect(bobAfter.ids == [purchase.id])
            let problems = try await database.sql { try SQLWriting.faithfulnessProblems(on: $0) }
            #expect(problems == [])
        }
    }

    /// Whether `has_conflicts` is true exactly for the records `cx.conflicts` lists.
    static func viewAgreesWithFlags(on connection: PostgresConnection) throws -> Bool {
        try connection.query(
            """
            SELECT (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM cx.customers WHERE has_conflicts
                                                           UNION ALL SELECT id FROM cx.activities WHERE has_conflicts) AS f)
                   IS NOT DISTINCT FROM
                   (SELECT array_agg(DISTINCT record ORDER BY record) FROM cx.conflicts) AS same
            """)[0][0] == "t"
    }
}
