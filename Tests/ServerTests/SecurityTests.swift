import CXModel
import CXPostgres
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import CXServer

/// Hostile input: text that looks like SQL, control characters, odd territory names, floods and
/// oversized headers. (Token refusal is in ``AuthTests``, scope in ``ScopeTests``.)
@Suite(.serverDatabase) struct SecurityTests {
    static let hostile = [
        "'; DROP TABLE cx.customers; --",
        "Robert'); DELETE FROM cx.users WHERE ('1'='1",
        "\" OR 1=1 --",
        "$1 $$ $tag$ \\x00 %s %n {}",
        "tab\tnewline\ncarriage\rbell\u{07}escape\u{1B}[31mdel\u{7F}",
        "{\"a\",\"b\"}, {north}, NULL",
        "Zoë — 東京 — 🚀 — \u{202E}reversed",
        "\\\\ backslashes \\ and 'quotes' and \"doubles\"",
    ]

    @Test func hostileTextInEveryFieldIsStoredAndReturnedVerbatim() async throws {
        try await withTestApp { client, database in
            let texts = Self.hostile
            let territory = "north'); DROP TABLE cx.customers; -- {\"x\",y}\\"
            var fields: [String: String?] = ["email": "o'brien+drop@example.com", "territory": territory]
            let textFields = Schema.customerFields.filter { $0.type == .text || $0.type == .requiredText }.map(\.name)
            for (index, field) in textFields.enumerated() where field != "territory" {
                fields[field] = texts[index % texts.count]
            }
            fields["extra.remark"] = texts[4]
            let customer = try RecordState.new(
                kind: .customer, fields: fields, tags: ["'; DROP TABLE x; --", "a,b", "{x}", "\"quoted\""], by: Records.author("hq"))
            var touch = try RecordState.new(
                kind: .activity,
                fields: ["customer_id": customer.id, "type": "touchpoint", "on": "2026-05-01", "channel": "visit",
                         "note": texts[0], "reference": texts[4], "referred_name": texts[6]],
                by: Records.author("hq"))
            try touch.set("extra.agenda", to: texts[3], by: Records.author("hq", minute: 1))

            let pushed = try SyncResponse(try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [customer, touch])).text)
            #expect(pushed.rejected.isEmpty)
            #expect(Set(pushed.changes) == [customer, touch], "states come back exactly as pushed")

            let columns = ["name"] + textFields.filter { $0 != "name" }
            let stored = try await database.sql { connection in
                try connection.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT \(columns.map { "\"\($0)\"" }.joined(separator: ", ")), email, extra->>'remark' AS remark, array_to_json(tags)::text AS tags FROM cx.customers",
                        binds: []))[0]
            }
            for column in columns {
                #expect(try stored.decode(column, as: String?.self) == fields[column] ?? nil, "column \(column)")
            }
            #expect(try stored.decode("remark", as: String.self) == texts[4])
            #expect(try stored.decode("email", as: String.self) == "o'brien+drop@example.com")
            let note = try await database.sql { connection in
                try connection.query("SELECT note, reference, referred_name, extra->>'agenda' AS agenda FROM cx.activities")[0].values
            }
            #expect(note == [texts[0], texts[4], texts[6], texts[3]])

            // A user whose territory is that string pulls exactly that customer, and every table survived.
            let rep = try await database.user("mallory'; --", territories: [territory, "{}", "\\"])
            let pulled = try SyncResponse(try await client.sync(token: rep, body: Records.syncBody(changes: [])).text)
            #expect(pulled.ids == [customer.id, touch.id])
            #expect(Set(pulled.scopeTerritories) == [territory, "{}", "\\"])
            let history = try await client.execute(
                uri: "/v1/records/\(customer.id)/history", method: .get, headers: [.authorization: "Bearer \(rep)"])
            #expect(history.status == .ok)
            let tables = try await database.sql { connection in
                try connection.query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'cx'")[0].decode("n", as: Int.self)
            }
            #expect(tables >= 9)
        }
    }

    @Test func theNULCharacterIsRefusedWithAClearErrorAndTheOtherRecordIsWritten() async throws {
        try await withTestApp { client, database in
            let good = try Records.customer("Fine")
            let bad = try Records.customer("placeholder")
            let body = Records.syncBody(changes: [good, bad])
                .replacingOccurrences(of: "\"placeholder\"", with: "\"bad\\u0000name\"")
            let response = try await client.sync(token: database.adminToken, body: body)
            #expect(response.status == .ok)
            #expect(response.text.contains("NUL"))
            #expect(try SyncResponse(response.text).rejected.map(\.id) == [bad.id])
            let count = try await database.sql { try $0.query("SELECT count(*) AS n FROM cx.customers")[0].decode("n", as: Int.self) }
            #expect(count == 1)
        }
    }

    @Test func oneUsersFloodIsLimitedWithoutStoppingOthers() async throws {
        // A bucket of three that refills once every 100 s: the fourth request is limited however
        // slow the machine is.
        try await withTestApp(configure: { $0.rateLimit = (0.01, 3) }) { client, database in
            let alice = try await database.user("alice", territories: ["north"])
            let bob = try await database.user("bob", territories: ["south"])
            for _ in 0..<3 {
                #expect(try await client.sync(token: alice, body: Records.syncBody(changes: [])).status == .ok)
            }
            for _ in 0..<5 {
                let limited = try await client.sync(token: alice, body: Records.syncBody(changes: []))
                #expect(limited.status == .tooManyRequests)
                #expect(limited.text.contains("\"code\":\"rate_limited\""))
                let retryAfter = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
                #expect((1...100).contains(retryAfter))
            }
            #expect(try await client.sync(token: bob, body: Records.syncBody(changes: [])).status == .ok)
            let me = try await client.execute(uri: "/v1/me", method: .get, headers: [.authorization: "Bearer \(bob)"])
            #expect(me.status == .ok)
        }
    }

    @Test func hugeAndMalformedHeadersAreRefusedAndTheServerKeepsServing() async throws {
        try await withTestDatabase { database in
            var configuration = ServerConfiguration()
            configuration.port = 0
            let app = buildApplication(configuration: configuration, pool: database.pool, metrics: ServerMetrics(), logger: TestDatabase.logger)
            try await app.test(.live) { client in
                let body = ByteBuffer(string: Records.syncBody(changes: []))
                // An oversized Authorization header: refused as unauthorized, not parsed further.
                let oversized = try await client.execute(
                    uri: "/v1/sync", method: .post,
                    headers: [.authorization: "Bearer cx_" + String(repeating: "a", count: 16_000), .contentType: "application/json"], body: body)
                #expect(oversized.status == .unauthorized)
                // A token followed by another word.
                let malformed = try await client.execute(
                    uri: "/v1/me", method: .get, headers: [.authorization: "Bearer \(database.adminToken) extra"])
                #expect(malformed.status == .unauthorized)
                // Headers far beyond what the HTTP parser accepts, on a connection of their own:
                // refused or the connection dropped, never served.
                let port = try #require(client.port)
                var huge: HTTPFields = [.authorization: "Bearer \(database.adminToken)", .contentType: "application/json"]
                for index in 0..<40 {
                    huge[HTTPField.Name("X-Filler-\(index)")!] = String(repeating: "x", count: 4_000)
                }
                let hugeHeaders = huge
                let status: HTTPResponse.Status? = try? await TestClient.withClient(host: "127.0.0.1", port: port) { other in
                    try await other.post("/v1/sync", headers: hugeHeaders, body: body).status
                }
                #expect(status != .ok)
                // The server keeps serving the connection it had.
                let ok = try await client.execute(uri: "/v1/me", method: .get, headers: [.authorization: "Bearer \(database.adminToken)"])
                #expect(ok.status == .ok)
            }
        }
    }
}
