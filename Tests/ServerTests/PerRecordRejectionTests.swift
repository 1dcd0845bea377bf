import CXModel
import CXPostgres
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import CXServer

/// One bad record never blocks a request: it is refused in `rejected` with a clear code, and
/// every other pushed record is written. Only a malformed envelope is a 400.
@Suite(.serverDatabase) struct PerRecordRejectionTests {
    static let badID = "0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f"

    static func customerCount(_ database: TestDatabase) async throws -> Int {
        try await database.sql { try $0.query("SELECT count(*) AS n FROM cx.customers")[0].decode("n", as: Int.self) }
    }

    @Test(arguments: [
        ("negative counter", "{\"id\":\"\(badID)\",\"kind\":\"customer\",\"clock\":{\"r\":-1},\"fields\":{}}", "invalid_record"),
        ("unknown kind", "{\"id\":\"\(badID)\",\"kind\":\"invoice\",\"clock\":{},\"fields\":{}}", "invalid_record"),
        ("unknown key", "{\"id\":\"\(badID)\",\"kind\":\"customer\",\"clock\":{},\"fields\":{},\"colour\":1}", "invalid_record"),
        ("wrong type", "{\"id\":\"\(badID)\",\"kind\":\"customer\",\"clock\":\"x\",\"fields\":{}}", "invalid_record"),
        ("incomplete customer", "{\"id\":\"\(badID)\",\"kind\":\"customer\",\"clock\":{},\"fields\":{}}", "incomplete_record"),
        (
            "purchase without amount",
            "{\"id\":\"\(badID)\",\"kind\":\"activity\",\"clock\":{\"r\":3},\"fields\":{"
                + "\"customer_id\":[{\"value\":\"\(badID)\",\"dot\":[\"r\",1],\"at\":\"2026-01-01T00:00:00.000Z\"}],"
                + "\"on\":[{\"value\":\"2026-01-01\",\"dot\":[\"r\",2],\"at\":\"2026-01-01T00:00:00.000Z\"}],"
                + "\"type\":[{\"value\":\"purchase\",\"dot\":[\"r\",3],\"at\":\"2026-01-01T00:00:00.000Z\"}]}}",
            "incomplete_record"
        ),
        (
            "negative amount without credits",
            "{\"id\":\"\(badID)\",\"kind\":\"activity\",\"clock\":{\"r\":4},\"fields\":{"
                + "\"amount\":[{\"value\":\"-20.00\",\"dot\":[\"r\",4],\"at\":\"2026-01-01T00:00:00.000Z\"}],"
                + "\"customer_id\":[{\"value\":\"\(badID)\",\"dot\":[\"r\",1],\"at\":\"2026-01-01T00:00:00.000Z\"}],"
                + "\"on\":[{\"value\":\"2026-01-01\",\"dot\":[\"r\",2],\"at\":\"2026-01-01T00:00:00.000Z\"}],"
                + "\"type\":[{\"value\":\"purchase\",\"dot\":[\"r\",3],\"at\":\"2026-01-01T00:00:00.000Z\"}]}}",
            "invalid_record"
        ),
        ("NUL in a name", "{\"id\":\"\(badID)\",\"kind\":\"customer\",\"clock\":{\"r\":1},\"fields\":{\"name\":[{\"value\":\"a\\u0000b\",\"dot\":[\"r\",1],\"at\":\"2026-01-01T00:00:00.000Z\"}]}}", "invalid_record"),
        ("6,000-character owner", "{\"id\":\"\(badID)\",\"kind\":\"customer\",\"clock\":{\"r\":2},\"fields\":{\"name\":[{\"value\":\"A\",\"dot\":[\"r\",1],\"at\":\"2026-01-01T00:00:00.000Z\"}],\"owner\":[{\"value\":\"\(String(repeating: "o", count: 6_000))\",\"dot\":[\"r\",2],\"at\":\"2026-01-01T00:00:00.000Z\"}]}}", "invalid_record"),
        ("20,000 replicas", "{\"id\":\"\(badID)\",\"kind\":\"customer\",\"clock\":{\((0..<20_000).map { "\"r\($0)\":1" }.joined(separator: ","))},\"fields\":{}}", "too_many_entries"),
    ])
    func aBadRecordIsRejectedAndTheOthersAreWritten(name: String, bad: String, code: String) async throws {
        try await withTestApp { client, database in
            let good = try Records.customer("Good")
            let body = "{\"replica_id\":\"r\",\"changes\":[\(good.jsonString()),\(bad)]}"
            let response = try await client.sync(token: database.adminToken, body: body)
            #expect(response.status == .ok, "\(name): \(response.text.prefix(500))")
            let reply = try SyncResponse(response.text)
            #expect(reply.rejected.map(\.code) == [code], "\(name): \(response.text.prefix(500))")
            #expect(reply.rejected.first?.id == Self.badID, "\(name)")
            #expect(try await Self.customerCount(database) == 1, "\(name)")
        }
    }

    /// Brackets, quotes and backslashes inside values do not confuse the split of `changes`.
    @Test func statesWithBracketsInTheirValuesAreRead() async throws {
        try await withTestApp { client, database in
            let tricky = try Records.customer("a}b]c\"d\\e{[f \\\" ]}")
            let body = "{\"replica_id\":\"r\",\"changes\":[\(try Records.customer("Good").jsonString()) , \(tricky.jsonString())]}"
            let response = try await client.sync(token: database.adminToken, body: body)
            #expect(response.status == .ok, "\(response.text.prefix(500))")
            #expect(try SyncResponse(response.text).rejected.isEmpty, "\(response.text.prefix(500))")
            #expect(try await Self.customerCount(database) == 2)
        }
    }

    @Test func rejectionMessagesSayWhatIsWrongAndWhatToDo() async throws {
        try await withTestApp { client, database in
            let bad = "{\"id\":\"\(Self.badID)\",\"kind\":\"customer\",\"clock\":{},\"fields\":{}}"
            let response = try await client.sync(token: database.adminToken, body: "{\"replica_id\":\"r\",\"changes\":[\(bad)]}")
            #expect(response.status == .ok)
            #expect(response.text.contains("a customer needs a name"))
            #expect(response.text.contains("cx edit"))
        }
    }

    @Test func aMergeThatWouldBeIncompleteIsRejectedAndTheOthersWritten() async throws {
        try await withTestApp { client, database in
            // A purchase synced to two laptops. Laptop A turns it into a touchpoint (type,
            // channel, amount unset); laptop B, offline, sets the type to purchase again. Each
            // state is complete, but their merge displays B's later "purchase" and A's unset
            // amount: a purchase without an amount.
            let base = try Records.purchase(customer: RecordID.random(), replica: "laptop-a")
            var a = base
            try a.set("type", to: "touchpoint", by: Records.author("laptop-a", minute: 1))
            try a.set("channel", to: "visit", by: Records.author("laptop-a", minute: 1))
            try a.set("amount", to: nil, by: Records.author("laptop-a", minute: 1))
            var b = base
            try b.set("type", to: "purchase", by: Records.author("laptop-b", minute: 2))
            try a.validateComplete()
            try b.validateComplete()

            let first = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "laptop-a", changes: [a]))
            #expect(try SyncResponse(first.text).rejected.isEmpty, "\(first.text)")
            let good = try Records.customer("Good")
            let response = try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "laptop-b", changes: [b, good]))
            #expect(response.status == .ok, "\(response.text)")
            let reply = try SyncResponse(response.text)
            #expect(reply.rejected.map(\.code) == ["incomplete_record"], "\(response.text)")
            #expect(reply.rejected.first?.id == base.id)
            #expect(response.text.contains("a purchase needs an amount"))
            #expect(try await Self.customerCount(database) == 1)
            // The stored activity is A's, unchanged: still complete.
            let stored = try await database.sql { connection in
                try connection.query("SELECT type FROM cx.activities WHERE id = \(base.id)::uuid")[0].decode("type", as: String.self)
            }
            #expect(stored == "touchpoint")
        }
    }

    @Test(arguments: [
        ("two changes arrays", "{\"replica_id\":\"r\",\"changes\":[],\"changes\":[]}"),
        ("two replica ids", "{\"replica_id\":\"r\",\"replica_id\":\"s\",\"changes\":[]}"),
        ("duplicate key inside a state", "{\"replica_id\":\"r\",\"changes\":[{\"id\":\"\(badID)\",\"id\":\"\(badID)\"}]}"),
        ("invalid UTF-8", "{\"replica_id\":\"r\u{FFFD}\",\"changes\":[]}"),
        ("leading zero limit", "{\"replica_id\":\"r\",\"changes\":[],\"limit\":010}"),
        ("syntax error inside a state", "{\"replica_id\":\"r\",\"changes\":[{\"id\":}]}"),
        // The states are split by their brackets and read one by one: a syntax error after a
        // state's first problem, or one the split steps over, is still the request's 400.
        ("a syntax error after a state's unknown key", "{\"replica_id\":\"r\",\"changes\":[{\"id\":\"\(badID)\",\"colour\":1,}]}"),
        ("a syntax error after an unknown kind", "{\"replica_id\":\"r\",\"changes\":[{\"id\":\"\(badID)\",\"kind\":\"invoice\",\"clock\":{},\"fields\":{} \"x\":1}]}"),
        ("mismatched brackets inside a state", "{\"replica_id\":\"r\",\"changes\":[{\"id\":\"\(badID)\",\"fields\":{]}]}"),
        ("an unterminated state", "{\"replica_id\":\"r\",\"changes\":[{\"id\":\"\(badID)\""),
        ("an unterminated string in a state", "{\"replica_id\":\"r\",\"changes\":[{\"id\":\"\(badID)}]}"),
        ("invalid UTF-8 inside a state", "{\"replica_id\":\"r\",\"changes\":[{\"id\":\"\(badID)\",\"kind\":\"x\u{FFFD}\"}]}"),
    ])
    func aMalformedEnvelopeIsA400(name: String, body: String) async throws {
        try await withTestApp { client, database in
            var bytes = Array(body.utf8)
            if name.hasPrefix("invalid UTF-8") {
                // Replace the U+FFFD (EF BF BD) with a lone continuation byte.
                if let index = bytes.firstIndex(of: 0xEF) { bytes.replaceSubrange(index..<index + 3, with: [0x80]) }
            }
            let response = try await client.execute(
                uri: "/v1/sync", method: .post,
                headers: [.contentType: "application/json", .authorization: "Bearer \(database.adminToken)"],
                body: ByteBuffer(bytes: bytes))
            #expect(response.status == .badRequest, "\(name): \(response.text)")
            #expect(response.text.contains("\"code\":\"malformed_json\""), "\(name): \(response.text)")
        }
    }

    @Test(arguments: ["c+5", "c007", "c-1", "c", "C5", "c 5", "c5 ", "c99999999999999999999", "c9446628629673014160", "c1000000000000000000"])
    func cursorsAreStrict(cursor: String) async throws {
        try await withTestApp { client, database in
            let response = try await client.sync(
                token: database.adminToken, body: "{\"replica_id\":\"r\",\"cursor\":\"\(cursor)\",\"changes\":[]}")
            #expect(response.status == .badRequest, "\(cursor): \(response.text)")
            #expect(response.text.contains("invalid_cursor"), "\(cursor)")
        }
    }

    @Test func cursorParsingAcceptsCanonicalCursors() throws {
        #expect(try SyncCursor.parse("c0") == .init(sequence: 0, epoch: nil))
        #expect(try SyncCursor.parse("c42") == .init(sequence: 42, epoch: nil))
        #expect(try SyncCursor.parse(nil) == .init(sequence: 0, epoch: nil))
        #expect(try SyncCursor.parse(SyncCursor.format(9_000_000_000, epoch: "0123456789ab")) == .init(sequence: 9_000_000_000, epoch: "0123456789ab"))
        for bad in ["c42.", "c42.0123456789AB", "c42.0123456789a", "c42.0123456789abc", "c42.x123456789ab", "c042.0123456789ab"] {
            #expect(throws: APIError.self, "\(bad)") { try SyncCursor.parse(bad) }
        }
    }
}
