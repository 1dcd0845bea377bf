import Foundation
import Testing

@testable import CXModel

@Suite struct JSONCodingTests {
    static let id = "0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f"

    static func state() throws -> RecordState {
        var state = try RecordState.new(
            kind: .customer, id: id,
            fields: ["name": "Café \"Zoë\"\n\t\\ \u{01}", "notes": "multi\nline"], tags: ["vip"],
            by: Author(replica: "r1", user: "alice", at: Timestamp(millisecondsSinceEpoch: 1_795_000_000_123)))
        try state.set("phone", to: nil, by: Author(replica: "r2", user: nil, at: Timestamp(millisecondsSinceEpoch: 0)))
        state.delete(by: Author(replica: "r2", at: Timestamp(millisecondsSinceEpoch: 5)))
        return state
    }

    @Test func expandedEncodingIsCanonicalAndRoundTrips() throws {
        let state = try Self.state()
        let text = state.jsonString(.expanded)
        #expect(text.hasPrefix("{\"id\":\"\(Self.id)\",\"kind\":\"customer\",\"clock\":{\"r1\":3,\"r2\":2},\"fields\":{\"name\":"))
        #expect(text.contains("\"phone\":[{\"value\":null,\"dot\":[\"r2\",1],\"at\":\"1970-01-01T00:00:00.000Z\"}]"))
        #expect(text.contains("\\\"Zoë\\\"\\n\\t\\\\ \\u0001"))
        #expect(text.contains("\"deletion\":[{\"deleted\":true,\"seen\":{\"r1\":3,\"r2\":1},\"dot\":[\"r2\",2]"))
        let decoded = try RecordState(jsonString: text)
        #expect(decoded == state)
        #expect(decoded.jsonString(.expanded) == text)
    }

    static let validText = (try? state().jsonString(.expanded)) ?? ""

    @Test(arguments: [
        ("negative counter", "\"r1\":3", "\"r1\":-3", "counter"),
        ("zero counter", "\"r1\":3", "\"r1\":0", "counter"),
        ("dot beyond clock", "[\"r2\",1]", "[\"r2\",9]", "not covered by the clock"),
        ("unknown kind", "\"customer\"", "\"invoice\"", "unknown kind"),
        ("unknown field", "\"notes\":", "\"colour\":", "unknown customer field"),
        ("unknown key", "\"kind\":", "\"extra\":1,\"kind\":", "unknown key"),
        ("bad id", id, "42", "not a UUID"),
        ("bad timestamp", "1970-01-01T00:00:00.000Z", "yesterday", "'at'"),
        ("truncated", "]}", "", "malformed JSON"),
        ("wrong type", "\"r1\":3", "\"r1\":\"3\"", "expected an integer"),
        ("duplicate dot", "[\"r2\",2]", "[\"r2\",1]", "appears twice"),
        ("required field unset", "\"value\":\"multi\\nline\"", "\"value\":null", ""),
    ])
    func rejectsMalformedStates(name: String, target: String, replacement: String, expected: String) throws {
        let text = name == "truncated" ? String(Self.validText.dropLast(7)) : Self.validText.replacingFirst(target, with: replacement)
        #expect(text != Self.validText, "the mutation \(name) must change the input")
        if name == "required field unset" {
            // Unsetting an optional field is a valid state; this case proves the mutation
            // harness itself accepts a valid change.
            #expect(throws: Never.self) { try RecordState(jsonString: text) }
            return
        }
        do {
            _ = try RecordState(jsonString: text)
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.description.contains(expected), "\(name): \(error.description)")
        }
    }

    @Test func rejectsNonCanonicalValues() throws {
        let text = try Self.state().jsonString(.expanded).replacingFirst("\"value\":\"multi\\nline\"", with: "\"value\":\"x\"")
        // A different but valid value is fine; what matters is invalid ones are refused.
        _ = try RecordState(jsonString: text)
        var purchase = try RecordState.new(
            kind: .activity, id: Self.id,
            fields: ["customer_id": Self.id, "type": "purchase", "on": "2026-11-20", "amount": "5"],
            by: Author(replica: "r1", at: Timestamp(millisecondsSinceEpoch: 0)))
        try purchase.set("margin", to: "0.1", by: Author(replica: "r1", at: Timestamp(millisecondsSinceEpoch: 0)))
        let bad = purchase.jsonString(.expanded).replacingFirst("\"5.00\"", with: "\"5\"")
        #expect(throws: StateDecodingError.self) { try RecordState(jsonString: bad) }
        let invalid = purchase.jsonString(.expanded).replacingFirst("\"0.1\"", with: "\"7\"")
        #expect(throws: StateDecodingError.self) { try RecordState(jsonString: invalid) }
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
