import CXModel
import CXPostgres
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import CXServer

@Suite(.serverDatabase) struct AuthTests {
    @Test(arguments: [
        nil, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer cx_nottoken", "bearer cx_" + String(repeating: "0", count: 52),
        "Bearer " + String(repeating: "a", count: 600), "Bearer cx_' OR '1'='1",
    ])
    func refusesMissingOrBadTokens(header: String?) async throws {
        try await withTestApp { client, _ in
            var headers: HTTPFields = [.contentType: "application/json"]
            if let header { headers[.authorization] = header }
            try await client.execute(
                uri: "/v1/sync", method: .post, headers: headers,
                body: ByteBuffer(string: Records.syncBody(changes: []))
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"cx\"")
                #expect(String(buffer: response.body).contains("\"code\":\"unauthorized\""))
            }
        }
    }

    @Test func issuedTokenWorksUntilRevoked() async throws {
        try await withTestApp { client, database in
            let token = try await database.sql { connection in
                try UserStore.addUser("alice", role: .rep, territories: ["north"], on: connection)
                return try UserStore.issueToken(for: "alice", on: connection)
            }
            #expect(token.hasPrefix("cx_") && token.count == 55)
            try await client.execute(uri: "/v1/me", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "{\"role\":\"rep\",\"user\":\"alice\"}")
            }
            let used = try await database.sql { connection in
                try connection.query("SELECT last_used_at IS NOT NULL AS used FROM cx.tokens WHERE prefix = \(String(token.prefix(15)))")[0]
                    .decode("used", as: Bool.self)
            }
            #expect(used, "a successful request records when the token was last used")
            let revoked = try await database.sql { try UserStore.revokeToken(String(token.prefix(15)), on: $0) }
            #expect(revoked == 1)
            let response = try await client.sync(token: token, body: Records.syncBody(changes: []))
            #expect(response.status == .unauthorized)
        }
    }

    @Test func expiredTokenIsRefused() async throws {
        try await withTestApp { client, database in
            let token = try await database.sql { connection in
                try UserStore.addUser("bob", role: .rep, territories: [], on: connection)
                let token = try UserStore.issueToken(for: "bob", expiresInDays: 1, on: connection)
                try connection.query("UPDATE cx.tokens SET expires_at = now() - interval '1 second' WHERE prefix = \(String(token.prefix(15)))")
                return token
            }
            #expect(try await client.sync(token: token, body: Records.syncBody(changes: [])).status == .unauthorized)
        }
    }

    @Test func tokensAreStoredOnlyAsHashes() async throws {
        try await withTestDatabase { database in
            let stored = try await database.sql { connection in
                try connection.query("SELECT prefix, encode(hash, 'hex') AS hash FROM cx.tokens")[0].values
            }
            #expect(database.adminToken.hasPrefix(try #require(stored[0])))
            #expect(!(stored[1] ?? "").contains(database.adminToken.dropFirst(15)))
            #expect(stored[1]?.count == 64)
        }
    }

    @Test func firstStartCreatesAdminOnce() async throws {
        try await withTestDatabase { database in
            #expect(database.adminToken.hasPrefix("cx_"))
            let second = try await database.sql { try FirstStart.createAdminIfEmpty(on: $0) }
            #expect(second == nil)
        }
    }
}
