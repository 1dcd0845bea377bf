import Foundation
import Logging
import Testing

@testable import CXServer

/// `--log-format json`: one JSON object per line, numbers kept as numbers.
@Suite struct JSONLogHandlerTests {
    @Test func oneObjectPerEventWithTypedMetadata() throws {
        let line = JSONLogHandler.line(
            time: "2026-11-30T01:02:03.456Z", level: .info, label: "cx.server", message: "sync \"quoted\"\nnext",
            metadata: [
                "hb.request.id": "abc123", "user": "alice", "status": .stringConvertible(200),
                "duration_ms": .stringConvertible(12.5), "has_more": .stringConvertible(false),
                "message": "shadowed", "nested": ["k": "v"], "list": ["a", .stringConvertible(1)],
            ])
        #expect(!line.contains(0x0A), "one line")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        #expect(object["time"] as? String == "2026-11-30T01:02:03.456Z")
        #expect(object["level"] as? String == "info")
        #expect(object["logger"] as? String == "cx.server")
        #expect(object["message"] as? String == "sync \"quoted\"\nnext")
        #expect(object["request_id"] as? String == "abc123")
        #expect(object["user"] as? String == "alice")
        #expect(object["status"] as? Int == 200)
        #expect(object["duration_ms"] as? Double == 12.5)
        #expect(object["has_more"] as? Bool == false)
        #expect(object["meta_message"] as? String == "shadowed")
        #expect((object["nested"] as? [String: Any])?["k"] as? String == "v")
        #expect((object["list"] as? [Any])?.count == 2)
    }

    @Test func timeIsISO8601UTC() {
        #expect(JSONLogHandler.now().wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
    }
}
