import CXModel
import Foundation
import Testing
@testable import CXClient

@Suite struct OutputShapeTests {
    func conflicted() throws -> RecordState {
        let base = try RecordState.new(kind: .customer, id: "11111111-2222-4333-8444-555555555555",
                                       fields: ["name": "Acme"], tags: ["vip"], by: Author(replica: "origin", user: "admin", at: Timestamp(millisecondsSinceEpoch: 0)))
        var left = base, right = base
        try left.set("phone", to: "555-0101", by: Author(replica: "alice-laptop", user: "alice", at: Timestamp("2026-11-20T10:02:00.000Z")!))
        try right.set("phone", to: "555-0199", by: Author(replica: "bob-laptop", user: "bob", at: Timestamp("2026-11-20T11:15:00.000Z")!))
        return left.merging(right)
    }

    @Test func showJSONHasTheContractShape() throws {
        let bytes = RecordView.jsonBytes(try conflicted())
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text == """
            {"id":"11111111-2222-4333-8444-555555555555","kind":"customer","fields":{"name":"Acme","phone":"555-0199"},"tags":["vip"],"deleted":false,"conflicts":[{"field":"phone","candidates":[{"value":"555-0101","replica":"alice-laptop","user":"alice","at":"2026-11-20T10:02:00.000Z"},{"value":"555-0199","replica":"bob-laptop","user":"bob","at":"2026-11-20T11:15:00.000Z"}]}]}
            """)
        #expect(try RecordView(jsonBytes: bytes) == RecordView(try conflicted()))
    }

    @Test func conflictsAreDescribedInPlainLanguage() throws {
        let view = RecordView(try conflicted())
        let text = Describe.conflict(view.conflicts[0])
        #expect(text.hasPrefix("phone: [1] '555-0101' set by alice on alice-laptop "))
        #expect(text.contains("; [2] '555-0199' set by bob on bob-laptop "))
        #expect(Describe.resolveHint(id: view.id, view.conflicts[0]) .hasPrefix("cx resolve 11111111 phone --pick 1|2"))
    }

    @Test func syncReportJSON() throws {
        var report = SyncReport()
        report.pushed = 2
        report.pulled = 5
        report.conflicts = 1
        report.rejected = [.init(id: "x", code: RecordRejection.Code(rawValue: "forbidden"), message: "outside your territory")]
        report.durationMS = 12
        #expect(String(decoding: report.jsonBytes(), as: UTF8.self) == """
            {"pushed":2,"pulled":5,"conflicts":1,"rejected":[{"id":"x","code":"forbidden","message":"outside your territory"}],"removed":0,"kept":[],"duration_ms":12}
            """)
        report.removed = 3
        report.kept = [.init(id: "y", reason: "left your territories but has changes the server refused: \"no\"")]
        report.rejected = []
        #expect(String(decoding: report.jsonBytes(), as: UTF8.self) == """
            {"pushed":2,"pulled":5,"conflicts":1,"rejected":[],"removed":3,"kept":[{"id":"y","reason":"left your territories but has changes the server refused: \\"no\\""}],"duration_ms":12}
            """)
        // Every key is snake_case and the document is one valid JSON object.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.jsonBytes())) as? [String: Any])
        #expect(Set(object.keys) == ["pushed", "pulled", "conflicts", "rejected", "removed", "kept", "duration_ms"])
        #expect((object["kept"] as? [[String: String]])?.first == ["id": "y", "reason": "left your territories but has changes the server refused: \"no\""])
    }

    @Test func syncEnvelopeAndResponseParsing() throws {
        let state = Fixtures.customer("Acme")
        let envelope = SyncEnvelope(replicaID: "r1", cursor: nil, changes: [state.jsonBytes()], limit: 1000).jsonBytes()
        #expect(String(decoding: envelope, as: UTF8.self).hasPrefix("{\"replica_id\":\"r1\",\"cursor\":null,\"changes\":[{\"v\":2,\"id\":"))
        let reply = Array("{\"changes\": [\(state.jsonString())], \"cursor\": \"c9\", \"has_more\": true, \"rejected\": [{\"id\": \"a\", \"code\": \"b\", \"message\": \"c\"}]}".utf8)
        let response = try SyncResponse(parsing: reply)
        #expect(response.cursor == "c9")
        #expect(response.hasMore)
        #expect(try RecordState(jsonBytes: response.changes[0]) == state)
        #expect(response.rejected == [.init(id: "a", code: RecordRejection.Code(rawValue: "b"), message: "c")])
        // An older server: no `removed`, no `scope`.
        #expect(response.removed.isEmpty)
        #expect(response.scope == nil)
        let scoped = try SyncResponse(parsing: Array("""
            {"changes":[],"cursor":"c42","has_more":false,"rejected":[],"removed":["\(state.id)"],
             "scope":{"user":"alice","role":"rep","territories":["north","east"]}}
            """.utf8))
        #expect(scoped.removed == [state.id])
        #expect(scoped.scope == SyncScope(role: .rep, territories: ["east", "north"]))
        #expect(scoped.scope?.summary == "rep of east, north")
        #expect(SyncScope(role: .admin, territories: []).summary == "admin (everything)")
    }

    @Test func tablesAlignColumns() {
        var table = TextTable(headers: ["ID", "NAME"])
        table.add(["abc", "Acme"])
        table.add(["abcdefgh", "B"])
        #expect(table.render() == ["ID        NAME", "abc       Acme", "abcdefgh  B"])
    }

    @Test func exitCodesMatchTheContract() {
        #expect(CXError.Code.failure.rawValue == 1)
        #expect(CXError.Code.conflicts.rawValue == 3)
        #expect(CXError.Code.usage.rawValue == 64)
        #expect(CXError.Code.dataError.rawValue == 65)
        #expect(CXError.Code.unavailable.rawValue == 69)
        #expect(CXError.Code.permission.rawValue == 77)
        #expect(CXError.from(RecordValidationError(field: "email", "bad")).code == .dataError)
        #expect(CXError.from(IOError(path: "/x", operation: "write", errno: 28)).code == .failure)
        #expect(CXError.from(CXError(.permission, "no")).code == .permission)
    }
}
