import CXModel
import CXPostgres
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import CXServer

/// One name, one spelling: territory and user names in NFC and NFD are the same name for the
/// server, its scope checks and the SQL the central team runs.
@Suite(.serverDatabase) struct NameNormalizationTests {
    static let nfd = "Zu\u{308}rich"
    static let nfc = "Z\u{FC}rich"

    @Test func aCustomerInNFDIsVisibleToTheRepsOfTheNFCTerritory() async throws {
        try await withTestApp { client, database in
            // The rep's territory typed in NFC; the customer's territory in NFD (another laptop).
            let rep = try await database.user("alice", territories: [Self.nfc])
            // Written by hand: `RecordState.new` would already normalise (as `cx` does now);
            // this is a state from an older replica that kept the NFD spelling.
            let id = RecordID.random()
            let at = "2026-01-01T00:00:00.000Z"
            let state = """
                {"id":"\(id)","kind":"customer","clock":{"old-laptop":2},"fields":{\
                "name":[{"value":"Grüezi AG","dot":["old-laptop",1],"at":"\(at)"}],\
                "territory":[{"value":"\(Self.nfd)","dot":["old-laptop",2],"at":"\(at)"}]}}
                """
            #expect(state.utf8.contains(0xCC))  // the combining diaeresis is really there
            let body = "{\"replica_id\":\"old-laptop\",\"changes\":[\(state)]}"
            let push = try await client.sync(token: database.adminToken, body: body)
            #expect(push.status == .ok, "\(push.text)")
            let pull = try SyncResponse(try await client.sync(token: rep, body: Records.syncBody(replica: "alice-laptop", changes: [])).text)
            #expect(pull.ids.contains(id))
            let stored = try await database.sql { connection in
                try connection.query("SELECT territory FROM cx.customers")[0].decode("territory", as: String.self)
            }
            #expect(Array(stored.utf8) == Array(Self.nfc.utf8))
        }
    }

    @Test func adminCommandsStoreTerritoryAndUserNamesInNFC() async throws {
        try await withTestApp { _, database in
            try await database.sql { connection in
                _ = try UserStore.addUser("Jo\u{308}rg", role: .rep, territories: [Self.nfd], on: connection)
                _ = try UserStore.addTerritories(["Gene\u{300}ve"], to: "J\u{F6}rg", on: connection)
                let user = try #require(try UserStore.user(named: "J\u{F6}rg", on: connection))
                #expect(Array(user.name.utf8) == Array("J\u{F6}rg".utf8))
                #expect(user.territories.map { Array($0.utf8) } == [Array("Gen\u{E8}ve".utf8), Array(Self.nfc.utf8)])
                // Removing with the other spelling works too.
                _ = try UserStore.removeTerritories([Self.nfc], from: "Jo\u{308}rg", on: connection)
                let rows = try connection.query("SELECT territory FROM cx.user_territories WHERE removed_at IS NULL")
                #expect(try rows.map { try $0.decode("territory", as: String.self) } == ["Gen\u{E8}ve"])
            }
        }
    }

    @Test func territoriesDifferingOnlyInCaseAreFoundForAWarning() async throws {
        try await withTestApp { _, database in
            try await database.sql { connection in
                _ = try UserStore.addUser("alice", role: .rep, territories: ["North"], on: connection)
                let variants = try UserStore.caseVariants(of: ["north", "South", "North"], on: connection)
                #expect(variants == ["north": ["North"]])
            }
        }
    }

    @Test func migration0005NormalizesStoredNames() async throws {
        let cluster = try #require(ServerTestCluster.current)
        let name = String("cx_mig_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12))
        let adminURL = cluster.connectionString(database: "postgres")
        let databaseURL = cluster.connectionString(database: name)
        try await blocking {
            let admin = try PostgresConnection(connectionString: adminURL)
            defer { admin.close() }
            try admin.executeScript("CREATE DATABASE \(name)")  // hex digits only
            let connection = try PostgresConnection(connectionString: databaseURL)
            defer { connection.close() }
            let before = Migration.all.filter { $0.version < 5 }
            _ = try clusterMigrationLock.withLock { try Migrator(migrations: before, logger: TestDatabase.logger).migrate(connection) }
            try connection.query("INSERT INTO cx.users (name, role) VALUES (\("Jo\u{308}rg"), 'rep')")
            try connection.query("INSERT INTO cx.users (name, role) VALUES ('bob', 'rep')")
            try connection.executeScript(
                """
                INSERT INTO cx.user_territories (user_id, territory, removed_at)
                  SELECT id, U&'Zu\\0308rich', now() FROM cx.users WHERE name = 'bob';
                INSERT INTO cx.user_territories (user_id, territory)
                  SELECT id, U&'Z\\00FCrich' FROM cx.users WHERE name = 'bob';
                INSERT INTO cx.user_territories (user_id, territory)
                  SELECT id, U&'Zu\\0308rich' FROM cx.users WHERE name <> 'bob';
                INSERT INTO cx.customers (id, territory, owner, tags, seq, state)
                  VALUES ('0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f', U&'Zu\\0308rich', U&'Jo\\0308rg', ARRAY[U&'cafe\\0301'],
                          nextval('cx.change_seq'), '{}');
                INSERT INTO cx.territory_exits (customer_id, territory, seq)
                  VALUES ('0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f', U&'Zu\\0308rich', 1),
                         ('0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f', U&'Z\\00FCrich', 2);
                """)
            _ = try clusterMigrationLock.withLock { try Migrator(logger: TestDatabase.logger).migrate(connection) }

            let notNFC = try connection.query(
                """
                SELECT (SELECT count(*) FROM cx.user_territories WHERE territory IS NOT NFC NORMALIZED)
                     + (SELECT count(*) FROM cx.territory_exits WHERE territory IS NOT NFC NORMALIZED)
                     + (SELECT count(*) FROM cx.users WHERE name IS NOT NFC NORMALIZED)
                     + (SELECT count(*) FROM cx.customers WHERE territory IS NOT NFC NORMALIZED OR owner IS NOT NFC NORMALIZED
                        OR tags[1] IS NOT NFC NORMALIZED) AS n
                """)[0].decode("n", as: Int.self)
            #expect(notNFC == 0)
            let bobs = try connection.query(
                """
                SELECT t.territory, t.removed_at IS NULL AS active FROM cx.user_territories t
                JOIN cx.users u ON u.id = t.user_id WHERE u.name = 'bob'
                """)
            #expect(bobs.count == 1)
            #expect(try bobs.first?.decode("active", as: Bool.self) == true)
            #expect(try connection.query("SELECT 1 FROM cx.territory_exits").count == 1)
            #expect(try connection.query("SELECT 1 FROM cx.customers WHERE territory = \(Self.nfc)").count == 1)
        }
        try await blocking {
            let admin = try PostgresConnection(connectionString: adminURL)
            defer { admin.close() }
            try admin.executeScript("DROP DATABASE \(name)")
        }
    }
}
