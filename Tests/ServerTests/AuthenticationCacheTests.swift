import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer

/// The sync route's cached token checks (``AuthenticationCache``): a busy client's syncs do not
/// read the tokens table each time, yet every change to its access — a revoked token, a lost
/// territory, a closed hand-off window, an expiry — applies to its very next request, because
/// the request confirms the cached check against the access version in its own statements.
@Suite(.serverDatabase) struct AuthenticationCacheTests {
    /// The access version as it stands.
    static func accessVersion(_ database: TestDatabase) async throws -> Int64 {
        try await database.sql { try Authentication.version(in: $0.query(PostgresQuery(unsafeSQL: Authentication.currentVersionSQL))) }
    }

    @Test func aSyncIsServedFromTheCacheUntilTheAccessVersionMoves() async throws {
        try await withTestApp { client, database in
            let alice = try await database.user("alice", territories: ["north"])
            #expect(try await client.sync(token: alice, body: Records.syncBody(changes: [])).status == .ok)
            // Revoked behind the triggers' back: the version stays, so the cached check serves —
            // which shows the request did not read the tokens table.
            try await database.sql { connection in
                try connection.transaction { connection in
                    try connection.query("SET LOCAL session_replication_role = replica")
                    try connection.query("UPDATE cx.tokens SET revoked_at = now() WHERE prefix = \(String(alice.prefix(15)))")
                }
            }
            #expect(try await client.sync(token: alice, body: Records.syncBody(changes: [])).status == .ok)
            // Any change to access moves the version: the next request reads the token again.
            _ = try await database.sql { try $0.query("UPDATE cx.access_version SET version = version + 1") }
            #expect(try await client.sync(token: alice, body: Records.syncBody(changes: [])).status == .unauthorized)
        }
    }

    @Test func everyChangeToAccessMovesTheVersion() async throws {
        try await withTestDatabase { database in
            _ = try await database.user("alice", territories: ["north"])
            let changes: [(String, String)] = [
                ("add a territory", "INSERT INTO cx.user_territories (user_id, territory) SELECT id, 'south' FROM cx.users WHERE name = 'alice'"),
                ("remove a territory", "UPDATE cx.user_territories SET removed_at = now() WHERE territory = 'south'"),
                ("change a role", "UPDATE cx.users SET role = 'manager' WHERE name = 'alice'"),
                ("rename a user", "UPDATE cx.users SET name = 'alicia' WHERE name = 'alice'"),
                ("revoke a token", "UPDATE cx.tokens SET revoked_at = now()"),
                ("expire a token", "UPDATE cx.tokens SET expires_at = now()"),
                ("change the hand-off window", "UPDATE cx.settings SET value = '3' WHERE key = 'handoff_days'"),
                ("delete a token", "DELETE FROM cx.tokens"),
                ("delete a user", "DELETE FROM cx.users WHERE name = 'alicia'"),
            ]
            for (change, sql) in changes {
                let before = try await Self.accessVersion(database)
                try await database.sql { try $0.executeScript(sql) }
                #expect(try await Self.accessVersion(database) > before, "\(change)")
            }
            // A check's own bookkeeping and a new token change nobody's access.
            _ = try await database.user("bob", territories: ["north"])
            let before = try await Self.accessVersion(database)
            try await database.sql { connection in
                _ = try UserStore.issueToken(for: "bob", on: connection)
                try connection.query("UPDATE cx.tokens SET last_used_at = now()")
            }
            #expect(try await Self.accessVersion(database) == before)
        }
    }

    @Test func aRevokedTokenIsRefusedAtItsNextSyncAndWritesNothing() async throws {
        try await withTestApp { client, database in
            let alice = try await database.user("alice", territories: ["north"])
            #expect(try await client.sync(token: alice, body: Records.syncBody(changes: [])).status == .ok)
            _ = try await database.sql { try UserStore.revokeToken(String(alice.prefix(15)), on: $0) }
            let customer = try Records.customer("Acme", territory: "north", replica: "alice-laptop")
            let push = try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [customer]))
            #expect(push.status == .unauthorized)
            #expect(try await client.sync(token: alice, body: Records.syncBody(changes: [])).status == .unauthorized)
            let stored = try await database.sql { connection in
                try connection.query("SELECT (SELECT count(*) FROM cx.customers) + (SELECT count(*) FROM cx.replicas) AS n")[0].decode("n", as: Int64.self)
            }
            #expect(stored == 0, "neither the customer nor the replica was admitted")
        }
    }

    @Test func aTerritoryLostAfterTheCheckWasCachedRefusesTheNextPush() async throws {
        try await withTestApp { client, database in
            let alice = try await database.user("alice", territories: ["north", "south"])
            #expect(try await client.sync(token: alice, body: Records.syncBody(changes: [])).status == .ok)
            _ = try await database.sql { try UserStore.removeTerritories(["south"], from: "alice", on: $0) }
            // With the hand-off window closed, the lost territory's customers are out of reach.
            _ = try await database.sql { try $0.query("UPDATE cx.settings SET value = '0' WHERE key = 'handoff_days'") }
            let south = try Records.customer("Southern", territory: "south", replica: "alice-laptop")
            let north = try Records.customer("Northern", territory: "north", replica: "alice-laptop")
            let reply = try SyncResponse(
                try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [south, north])).text)
            #expect(reply.rejected.map(\.id) == [south.id])
            #expect(reply.scopeTerritories == ["north"], "the reply and its pull use the scope read again")
        }
    }

    @Test func aCachedCheckEndsWhenItsTokenExpires() async throws {
        try await withTestApp { client, database in
            _ = try await database.user("alice", territories: ["north"])
            let token = try await database.sql { connection in
                let token = try UserStore.issueToken(for: "alice", on: connection)
                try connection.query("UPDATE cx.tokens SET expires_at = now() + interval '1.5 seconds' WHERE prefix = \(String(token.prefix(15)))")
                return token
            }
            #expect(try await client.sync(token: token, body: Records.syncBody(changes: [])).status == .ok)
            try await Task.sleep(for: .milliseconds(1_600))
            #expect(try await client.sync(token: token, body: Records.syncBody(changes: [])).status == .unauthorized)
        }
    }

    @Test func aGroupedPushWhoseTokenWasRevokedIsRefusedAloneAndAdmitsNothing() async throws {
        try await withTestDatabase(poolSize: 6) { database in
            let store = RecordStore(pool: database.pool)
            let coalescer = PushCoalescer(store: store)
            // The checks the sync route would have cached, then alice's token revoked.
            func rep(_ name: String) async throws -> RecordStore.Writer {
                let token = try await database.user(name, territories: ["north"])
                let check = try #require(try await database.sql { try UserStore.authentication(of: AccessToken(presented: token)!, on: $0) })
                var writer = RecordStore.Writer(userID: check.user.id, userName: name, replicaID: "\(name)-laptop", scope: check.user.scope)
                writer.authentication = check
                return writer
            }
            let alice = try await rep("alice")
            let bob = try await rep("bob")
            _ = try await database.sql { try UserStore.revokeToken(alice.authentication!.token.prefix, on: $0) }
            let aliceCustomer = try Records.customer("Alice's", territory: "north", replica: "alice-laptop")
            let bobCustomer = try Records.customer("Bob's", territory: "north", replica: "bob-laptop")
            let (aliceWriter, bobWriter) = (alice, bob)
            let results = try await GroupCommitTests.grouped(
                [
                    { try await $0.push([try Records.customer("First", replica: "server")], as: .system(), claim: nil, logger: TestDatabase.logger) },
                    {
                        try await $0.push(
                            [aliceCustomer], as: aliceWriter, claim: .init(replicaID: "alice-laptop", token: nil, nextToken: "a1"),
                            logger: TestDatabase.logger)
                    },
                    {
                        try await $0.push(
                            [bobCustomer], as: bobWriter, claim: .init(replicaID: "bob-laptop", token: nil, nextToken: "b1"),
                            logger: TestDatabase.logger)
                    },
                ], through: coalescer, database: database)
            #expect { try results[1].get() } throws: { ($0 as? APIError)?.status == .unauthorized }
            let bobOutcome = try results[2].get()
            #expect(bobOutcome.written == 1)
            // The version is one for everybody: bob's check was read again too, and still holds.
            #expect(bobOutcome.authentication?.user.name == "bob")
            #expect((bobOutcome.authentication?.accessVersion ?? 0) > (bob.authentication?.accessVersion ?? .max))
            #expect(coalescer.statistics.sharedCommits == 1)
            let stored = try await database.sql { connection in
                try connection.query("SELECT replica_id FROM cx.replicas ORDER BY replica_id").map { try $0.decode("replica_id", as: String.self) }
            }
            #expect(stored == ["bob-laptop"], "alice's replica was not admitted")
            let ids = try await store.pull(after: 0, limit: 100).states.map { try RecordState(jsonString: $0).id }
            #expect(!ids.contains(aliceCustomer.id) && ids.contains(bobCustomer.id))
        }
    }

    @Test func checksLeaveTheCacheWhenTheyStopHolding() throws {
        let cache = AuthenticationCache(maxAge: .seconds(30), capacity: 2)
        let start = ContinuousClock.now
        func check(_ name: String, holdsFor: Duration?) -> Authentication {
            Authentication(
                user: AuthenticatedUser(id: 1, name: name, role: .rep, tokenID: 1, scope: AccessScope(role: .rep, territories: [], handoffTerritories: [])),
                token: AccessToken(presented: "cx_" + String(repeating: "0", count: 52))!, accessVersion: 1, holdsFor: holdsFor)
        }
        cache.remember(check("expiring", holdsFor: .seconds(2)), tokenHash: [1], now: start)
        cache.remember(check("lasting", holdsFor: nil), tokenHash: [2], now: start)
        #expect(cache.authentication(forTokenHash: [1], now: start + .seconds(1))?.user.name == "expiring")
        #expect(cache.authentication(forTokenHash: [1], now: start + .seconds(2)) == nil, "the token expired or a hand-off closed")
        #expect(cache.authentication(forTokenHash: [2], now: start + .seconds(29))?.user.name == "lasting")
        #expect(cache.authentication(forTokenHash: [2], now: start + .seconds(30)) == nil, "no check is served longer than maxAge")
        // Full: expired checks go first, then everything.
        cache.forget(tokenHash: [2])
        cache.remember(check("a", holdsFor: .seconds(1)), tokenHash: [3], now: start)
        cache.remember(check("b", holdsFor: nil), tokenHash: [4], now: start)
        cache.remember(check("c", holdsFor: nil), tokenHash: [5], now: start + .seconds(5))
        #expect(cache.count == 2)
        #expect(cache.authentication(forTokenHash: [4], now: start + .seconds(5))?.user.name == "b", "only the expired check made room")
        #expect(cache.authentication(forTokenHash: [5], now: start + .seconds(5))?.user.name == "c")
        cache.remember(check("d", holdsFor: nil), tokenHash: [6], now: start + .seconds(5))
        #expect(cache.count == 1)
        cache.remember(check("gone", holdsFor: .zero), tokenHash: [7], now: start)
        #expect(cache.authentication(forTokenHash: [7], now: start) == nil, "a check that no longer holds is not kept")
        cache.forget(tokenHash: [6])
        #expect(cache.count == 0)
    }
}
