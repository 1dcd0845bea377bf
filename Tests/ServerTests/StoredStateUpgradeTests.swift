import CXModel
import CXPostgres
import Testing

@testable import CXServer

/// A database written under earlier value rules keeps working after an upgrade: its states are
/// read, served, merged and written on, and only new writes are held to today's limits.
@Suite(.serverDatabase) struct StoredStateUpgradeTests {
    /// 250 code points: a city accepted before naming fields were limited to 200.
    static let longCity = String(repeating: "Llanfair", count: 31) + "ab"

    /// Stores `customer` with its city replaced by ``longCity`` in the state and the typed
    /// column, as a server before the limit would have, and returns that legacy state.
    static func storeLegacyCity(_ customer: RecordState, in database: TestDatabase) async throws -> RecordState {
        let legacyText = customer.jsonString(.expanded).replacingOccurrences(of: "\"Bern\"", with: "\"\(longCity)\"")
        let legacy = try RecordState(jsonString: legacyText, values: .stored)
        try await database.sql { connection in
            try connection.query(
                "UPDATE cx.customers SET state = \(legacyText)::jsonb, city = \(longCity) WHERE id = \(customer.id)::uuid")
        }
        return legacy
    }

    @Test func aLegacyStateIsServedMergedAndWrittenOn() async throws {
        try await withTestApp { client, database in
            var customer = try Records.customer("Legacy", replica: "laptop-a")
            try customer.set("city", to: "Bern", by: Records.author("laptop-a", minute: 1))
            let first = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "laptop-a", changes: [customer]))
            #expect(try SyncResponse(first.text).rejected.isEmpty, "\(first.text)")
            let legacy = try await Self.storeLegacyCity(customer, in: database)

            // A new laptop pulls it and reads it as stored data.
            let pull = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "laptop-b", changes: []))
            #expect(pull.status == .ok, "\(pull.text.prefix(300))")
            let pulled = try #require(try SyncReply(parsing: Array(pull.text.utf8)).changes.first)
            let onLaptop = try RecordState(jsonBytes: pulled, values: .stored)
            #expect(onLaptop.displayedValue("city") == Self.longCity)

            // An edit of another field travels with the legacy city and is written.
            var edited = onLaptop
            try edited.set("phone", to: "555-0100", by: Records.author("laptop-b", minute: 2))
            let push = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "laptop-b", changes: [edited]))
            #expect(push.status == .ok, "\(push.text.prefix(300))")
            #expect(try SyncReply(parsing: Array(push.text.utf8)).rejected.isEmpty, "\(push.text.prefix(500))")
            let id = customer.id
            let row = try await database.sql { connection in
                try connection.query("SELECT phone, city FROM cx.customers WHERE id = \(id)::uuid")[0]
            }
            #expect(try row.decode("phone", as: String?.self) == "555-0100")
            #expect(try row.decode("city", as: String?.self) == Self.longCity)
            #expect(legacy.displayedValue("city") == Self.longCity)
        }
    }

    @Test func aNewOverLongWriteIsStillRefused() async throws {
        try await withTestApp { client, database in
            var customer = try Records.customer("Legacy", replica: "laptop-a")
            try customer.set("city", to: "Bern", by: Records.author("laptop-a", minute: 1))
            _ = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "laptop-a", changes: [customer]))
            let legacy = try await Self.storeLegacyCity(customer, in: database)
            // Another laptop writes a long owner: a new write, held to today's limit.
            let forged = legacy.jsonString(.expanded)
                .replacingOccurrences(of: "\"clock\":{\"laptop-a\":", with: "\"clock\":{\"laptop-b\":1,\"laptop-a\":")
                .replacingOccurrences(
                    of: "\"fields\":{",
                    with: "\"fields\":{\"owner\":[{\"value\":\"\(String(repeating: "o", count: 201))\",\"dot\":[\"laptop-b\",1],\"at\":\"2026-01-01T00:00:00.000Z\"}],")
            let body = "{\"replica_id\":\"laptop-b\",\"changes\":[\(forged)]}"
            let response = try await client.sync(token: database.adminToken, body: body)
            #expect(response.status == .ok, "\(response.text.prefix(300))")
            let rejected = try SyncReply(parsing: Array(response.text.utf8)).rejected
            #expect(rejected.map(\.code) == [.invalidRecord], "\(response.text.prefix(500))")
            #expect(rejected.first?.message.contains("owner") == true)
        }
    }
}

/// A database that an earlier server (migrations 1–3: before replica registry, NFC names,
/// activity exits and epochs) filled upgrades in place: the migrations apply over its data,
/// and its users, customers and activities sync as before.
@Suite(.serverDatabase) struct DatabaseUpgradeTests {
    static let nfd = "Zu\u{308}rich"
    static let earlier = Array(Migration.all.prefix(3))

    @Test func aDatabaseFromBeforeTheReliabilityMigrationsSyncsAfterTheUpgrade() async throws {
        #expect(Self.earlier.map(\.version) == [1, 2, 3])
        var customer = try Records.customer("Alte Firma", territory: "Z\u{FC}rich", replica: "old-laptop")
        try customer.set("city", to: "Bern", by: Records.author("old-laptop", minute: 1))
        let purchase = try Records.purchase(customer: customer.id, replica: "old-laptop")
        // As the earlier server stored them: the territory as the laptop typed it (NFD), a
        // city longer than today's limit, the typed columns beside the state.
        let customerText = customer.jsonString(.expanded)
            .replacingOccurrences(of: "Z\u{FC}rich", with: Self.nfd)
            .replacingOccurrences(of: "\"Bern\"", with: "\"\(StoredStateUpgradeTests.longCity)\"")
        let purchaseText = purchase.jsonString(.expanded)
        let (customerID, purchaseID) = (customer.id, purchase.id)
        try await withTestApp(
            migrations: Self.earlier,
            preparing: { database in
                try await database.sql { connection in
                    let rita = try connection.query("INSERT INTO cx.users (name, role) VALUES ('rita', 'rep') RETURNING id")[0]
                        .decode("id", as: Int64.self)
                    try connection.query("INSERT INTO cx.user_territories (user_id, territory) VALUES (\(rita), \(Self.nfd))")
                    try connection.query(
                        """
                        INSERT INTO cx.customers (id, name, territory, city, owner, seq, state)
                        VALUES (\(customerID)::uuid, 'Alte Firma', \(Self.nfd), \(StoredStateUpgradeTests.longCity), 'old-laptop',
                                nextval('cx.change_seq'), \(customerText)::jsonb)
                        """)
                    try connection.query(
                        """
                        INSERT INTO cx.activities (id, customer_id, type, "on", amount, margin, due_on, seq, state)
                        VALUES (\(purchaseID)::uuid, \(customerID)::uuid, 'purchase', '2026-03-01', 120.00, 0.12, '2026-03-31',
                                nextval('cx.change_seq'), \(purchaseText)::jsonb)
                        """)
                    // The upgrade: today's server starts and applies the rest.
                    let applied = try clusterMigrationLock.withLock { try Migrator(logger: TestDatabase.logger).migrate(connection) }
                    #expect(applied == Migration.all.map(\.version).filter { $0 >= 4 })
                }
            }
        ) { client, database in
            let token = try await database.sql { try UserStore.issueToken(for: "rita", on: $0) }
            // Rita's territory, typed in NFD years ago, still holds the customer and its purchase.
            let pull = try await client.sync(token: token, body: Records.syncBody(replica: "rita-laptop", changes: []))
            #expect(pull.status == .ok, "\(pull.text.prefix(300))")
            let reply = try SyncReply(parsing: Array(pull.text.utf8))
            let states = try reply.changes.map { try RecordState(jsonBytes: $0, values: .stored) }
            #expect(Set(states.map(\.id)) == [customerID, purchaseID])
            #expect(reply.scope?.territories == ["Z\u{FC}rich"])
            // She edits the customer and logs a payment: both are written.
            var edited = try #require(states.first { $0.id == customerID })
            try edited.set("phone", to: "555-0100", by: Records.author("rita-laptop", minute: 5))
            var paid = try #require(states.first { $0.id == purchaseID })
            try paid.set("paid_on", to: "2026-03-20", by: Records.author("rita-laptop", minute: 5))
            let push = try await client.sync(
                token: token, body: Records.syncBody(replica: "rita-laptop", cursor: reply.cursor, changes: [edited, paid]))
            #expect(push.status == .ok, "\(push.text.prefix(300))")
            #expect(try SyncReply(parsing: Array(push.text.utf8)).rejected.isEmpty, "\(push.text.prefix(500))")
            let row = try await database.sql { connection in
                try connection.query(
                    """
                    SELECT c.phone, c.territory, a.paid_on::text AS paid_on FROM cx.customers c JOIN cx.activities a ON a.customer_id = c.id
                    WHERE c.id = \(customerID)::uuid
                    """)[0]
            }
            #expect(try row.decode("phone", as: String?.self) == "555-0100")
            #expect(try row.decode("territory", as: String?.self).map { Array($0.utf8) } == Array("Z\u{FC}rich".utf8))
            #expect(try row.decode("paid_on", as: String?.self) == "2026-03-20")
        }
    }
}
