import CXModel
import CXPostgres
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import CXServer

/// Every class of bad input gets the right 4xx with the JSON error body; never a 500, and
/// nothing is half-written.
@Suite(.serverDatabase) struct BadInputTests {
    static let validState = (try? Records.customer("Valid").jsonString()) ?? ""

    @Test(arguments: [
        ("not json", "{", 400, "malformed_json"),
        ("empty body", "", 400, "malformed_json"),
        ("array body", "[]", 400, "malformed_json"),
        ("trailing garbage", "{\"replica_id\":\"r\",\"changes\":[]} x", 400, "malformed_json"),
        ("wrong type", "{\"replica_id\":7,\"changes\":[]}", 400, "malformed_json"),
        ("changes not array", "{\"replica_id\":\"r\",\"changes\":{}}", 400, "malformed_json"),
        ("unknown field", "{\"replica_id\":\"r\",\"changes\":[],\"since\":1}", 400, "unknown_field"),
        ("missing replica", "{\"changes\":[]}", 400, "missing_field"),
        ("control char replica", "{\"replica_id\":\"a\\u0001b\",\"changes\":[]}", 400, "invalid_replica_id"),
        ("bad cursor", "{\"replica_id\":\"r\",\"cursor\":\"abc\",\"changes\":[]}", 400, "invalid_cursor"),
        ("zero limit", "{\"replica_id\":\"r\",\"changes\":[],\"limit\":0}", 400, "invalid_limit"),
        ("float limit", "{\"replica_id\":\"r\",\"changes\":[],\"limit\":1.5}", 400, "malformed_json"),
    ])
    func refusesBadRequests(name: String, body: String, status: Int, code: String) async throws {
        try await withTestApp { client, database in
            let response = try await client.sync(token: database.adminToken, body: body)
            #expect(response.status.code == status, "\(name): \(response.text)")
            #expect(response.text.hasPrefix("{\"error\":{\"code\":\"\(code)\""), "\(name): \(response.text)")
        }
    }

    @Test func aBadStateAmongGoodOnesIsRejectedAloneAndTheGoodOnesAreWritten() async throws {
        try await withTestApp { client, database in
            let good = try Records.customer("Good")
            let bad = "{\"id\":\"0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f\",\"kind\":\"customer\",\"clock\":{\"x\":0},\"fields\":{}}"
            let body = "{\"replica_id\":\"r\",\"changes\":[\(good.jsonString()),\(bad)]}"
            let response = try await client.sync(token: database.adminToken, body: body)
            #expect(response.status == .ok)
            #expect(try SyncResponse(response.text).rejected.map(\.code) == ["invalid_record"])
            let count = try await database.sql { try $0.query("SELECT count(*) AS n FROM cx.customers")[0].decode("n", as: Int.self) }
            #expect(count == 1)
        }
    }

    @Test func oversizedBodyIs413() async throws {
        try await withTestApp(configure: { $0.maxBodyBytes = 2_000 }) { client, database in
            let states = try (0..<10).map { try Records.customer("Customer \($0)") }
            let response = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: states))
            #expect(response.status == .contentTooLarge)
            #expect(response.text.contains("\"code\":\"body_too_large\""))
        }
    }

    @Test func tooManyRecordsIs413() async throws {
        try await withTestApp(configure: { $0.maxChangesPerRequest = 3 }) { client, database in
            let states = try (0..<4).map { try Records.customer("Customer \($0)") }
            let response = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: states))
            #expect(response.status == .contentTooLarge)
            #expect(response.text.contains("\"code\":\"too_many_changes\""))
        }
    }

    @Test func wrongContentTypeIs415() async throws {
        try await withTestApp { client, database in
            let response = try await client.sync(
                token: database.adminToken, body: Records.syncBody(changes: []), contentType: "text/plain")
            #expect(response.status == .unsupportedMediaType)
        }
    }

    @Test func unknownRouteAndMethodAnswerJSON() async throws {
        try await withTestApp { client, _ in
            try await client.execute(uri: "/v2/nothing", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).hasPrefix("{\"error\":"))
            }
        }
    }

    @Test func injectionAndControlCharactersAreStoredVerbatim() async throws {
        try await withTestApp { client, database in
            let nasty = "Robert'); DROP TABLE cx.customers;-- \u{0001}\u{0007}\"\\ ünïcødé 🙂"
            let customer = try Records.customer(nasty)
            let response = try SyncResponse(try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [customer])).text)
            #expect(response.changes.first?.displayedValue("name") == nasty)
            let stored = try await database.sql { try $0.query("SELECT name FROM cx.customers")[0].decode("name", as: String.self) }
            #expect(stored == nasty)
        }
    }
}
