import Foundation
import Testing

/// A sync with many batches to push sends each while the one before is answered (push-only
/// requests, docs/sync-protocol.md §4c), through the real binaries: everything arrives, nothing
/// the laptop pushed comes back to it, a change another laptop made meanwhile does, and every
/// replica ends with the same records.
@Suite struct PushAheadEndToEndTests {
    func csv(_ names: Range<Int>, prefix: String, in directory: String) throws -> String {
        let path = directory + "/\(prefix).csv"
        let rows = names.map { "\(prefix) customer \($0),\(prefix)\($0)@example.com,north" }
        try (["name,email,territory"] + rows).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func report(_ home: Home, _ environment: [String: String]) throws -> [String: Any] {
        let run = try home.cx("sync", "--json", environment: environment)
        guard run.status == 0, let object = try run.json() as? [String: Any] else { throw HarnessError("sync failed: \(run)") }
        return object
    }

    @Test func aLargePushGoesAheadArrivesWholeAndDoesNotComeBack() async throws {
        try await withServer { server in
            let files = NSTemporaryDirectory() + "cx-push-ahead-" + UUID().uuidString.prefix(8)
            try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: files) }
            // Batches of 50: the push of 600 customers takes 12 requests.
            let small = ["CX_SYNC_BATCH": "50"]
            let a = try makeHome(server, user: "alice"), b = try makeHome(server, user: "bob")
            _ = try a.ok("import", try csv(0..<600, prefix: "first", in: files))

            let first = try report(a, small)
            #expect(first["pushed"] as? Int == 600)
            #expect(first["pulled"] as? Int == 0, "the laptop's own writes do not come back to it")
            #expect((first["rejected"] as? [Any])?.isEmpty == true)
            #expect(server.stdout.value.contains("push_only=true") || server.stderr.value.contains("push_only=true"), "pushes went ahead")
            let again = try report(a, small)
            #expect(again["pushed"] as? Int == 0)
            #expect(again["pulled"] as? Int == 0, "the cursor passed the pushed records")

            // Bob pulls everything and edits one record; Alice pushes another large batch and
            // receives Bob's edit, though the receipts of her pushes name that record's old number.
            let pulled = try report(b, small)
            #expect(pulled["pulled"] as? Int == 600)
            let listed = try #require(try b.cx("list", "--json").json() as? [[String: Any]])
            let edited = try #require(listed.first?["id"] as? String)
            _ = try b.ok("edit", edited, "--set", "city=Lyon")
            _ = try b.ok("sync")
            _ = try a.ok("import", try csv(600..<1_000, prefix: "second", in: files))
            let second = try report(a, small)
            #expect(second["pushed"] as? Int == 400)
            #expect(second["pulled"] as? Int == 1, "Bob's edit, and nothing Alice pushed")
            let shown = try a.showJSON(edited)
            #expect((shown["fields"] as? [String: String])?["city"] == "Lyon")

            // Every replica holds the same 1,000 customers.
            let bobLast = try report(b, small)
            #expect(bobLast["pulled"] as? Int == 400)
            let onA = try #require(try a.cx("list", "--json").json() as? [[String: Any]])
            let onB = try #require(try b.cx("list", "--json").json() as? [[String: Any]])
            #expect(onA.count == 1_000)
            #expect(Set(onA.compactMap { $0["id"] as? String }) == Set(onB.compactMap { $0["id"] as? String }))
        }
    }
}
