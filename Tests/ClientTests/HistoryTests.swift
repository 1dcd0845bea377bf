import CXModel
import Foundation
import Testing
@testable import CXClient

/// `cx history`: reading the server's document, re-encoding it, and rendering it for people.
@Suite struct HistoryTests {
    // Keys of the field objects in jsonb order (PostgreSQL sorts them), values of several kinds.
    static let body = """
        {"id": "3f2a9c1e-0000-4000-8000-000000000001", "kind": "customer", "entries": [
          {"seq": 12, "at": "2026-11-22T10:00:00.123Z", "user": "alice", "replica": "anna-laptop", "operation": "insert",
           "conflicts": false,
           "fields": [{"to": "Ada", "from": null, "field": "name"}, {"field": "tags", "from": "a, b", "to": "a"}]},
          {"seq": 15, "at": "2026-11-23T08:30:00.000Z", "user": "bob", "replica": "bob-pc", "operation": "update",
           "conflicts": true, "extra": {"ignored": [1, 2]},
           "fields": [{"field": "phone", "from": "555-0101", "to": null}, {"field": "nps", "from": 7, "to": 9}]}
        ]}
        """

    @Test func parsesTheServerDocument() throws {
        let history = try RecordHistory(parsing: Array(Self.body.utf8))
        #expect(history.id == "3f2a9c1e-0000-4000-8000-000000000001")
        #expect(history.kind == "customer")
        #expect(history.entries.map(\.seq) == [12, 15])
        #expect(history.entries[0] == .init(
            seq: 12, at: "2026-11-22T10:00:00.123Z", user: "alice", replica: "anna-laptop", operation: "insert", conflicts: false,
            fields: [.init(field: "name", from: nil, to: "Ada"), .init(field: "tags", from: "a, b", to: "a")]))
        #expect(history.entries[1].conflicts)
        #expect(history.entries[1].fields == [.init(field: "phone", from: "555-0101", to: nil), .init(field: "nps", from: "7", to: "9")])
    }

    @Test func rejectsDocumentsThatAreNotAHistory() {
        #expect(throws: JSONScanner.Failure.self) { try RecordHistory(parsing: Array("{\"kind\":\"customer\",\"entries\":[]}".utf8)) }
        #expect(throws: JSONScanner.Failure.self) { try RecordHistory(parsing: Array("{\"id\":\"x\",\"entries\":[{\"seq\":\"twelve\"}]}".utf8)) }
        #expect(throws: JSONScanner.Failure.self) { try RecordHistory(parsing: Array("[]".utf8)) }
    }

    @Test func reencodesCanonically() throws {
        let history = try RecordHistory(parsing: Array(Self.body.utf8))
        let json = String(decoding: history.jsonBytes(), as: UTF8.self)
        #expect(json == """
            {"id":"3f2a9c1e-0000-4000-8000-000000000001","kind":"customer","entries":[\
            {"seq":12,"at":"2026-11-22T10:00:00.123Z","user":"alice","replica":"anna-laptop","operation":"insert","conflicts":false,\
            "fields":[{"field":"name","from":null,"to":"Ada"},{"field":"tags","from":"a, b","to":"a"}]},\
            {"seq":15,"at":"2026-11-23T08:30:00.000Z","user":"bob","replica":"bob-pc","operation":"update","conflicts":true,\
            "fields":[{"field":"phone","from":"555-0101","to":null},{"field":"nps","from":"7","to":"9"}]}]}
            """)
        // Its own output reads back to the same history.
        #expect(try RecordHistory(parsing: history.jsonBytes()) == history)
    }

    @Test func rendersOneBlockPerChange() throws {
        let history = try RecordHistory(parsing: Array(Self.body.utf8))
        let terminal = Terminal(environment: ["NO_COLOR": "1"])
        let lines = Describe.history(history, terminal: terminal, time: { String($0.prefix(16)).replacingOccurrences(of: "T", with: " ") })
        #expect(lines == [
            "2026-11-22 10:00  alice on anna-laptop  created",
            "  name: (none) → Ada",
            "  tags: a, b → a",
            "",
            "2026-11-23 08:30  bob on bob-pc  updated  (conflict)",
            "  phone: 555-0101 → (none)",
            "  nps: 7 → 9",
        ])
        // A resolution that kept the displayed value shows as a resolved conflict.
        var resolved = history
        resolved.entries.append(.init(seq: 16, at: "2026-11-23T09:00:00.000Z", user: "bob", replica: "bob-pc", operation: "update", conflicts: false, fields: []))
        let resolvedLines = Describe.history(resolved, terminal: terminal, time: { String($0.prefix(16)).replacingOccurrences(of: "T", with: " ") })
        #expect(Array(resolvedLines.suffix(3)) == ["", "2026-11-23 09:00  bob on bob-pc  updated", "  conflict resolved"])
        let empty = RecordHistory(id: "3f2a9c1e-0000-4000-8000-000000000001", kind: "activity", entries: [])
        #expect(Describe.history(empty, terminal: terminal) == ["No changes recorded for 3f2a9c1e-0000-4000-8000-000000000001."])
        #expect(Describe.operationVerb("delete") == "deleted")
    }
}
