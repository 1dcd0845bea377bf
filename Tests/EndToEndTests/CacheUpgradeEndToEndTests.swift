import Foundation
import Testing

/// A cache written by a `cx` from before replica incarnations opens in today's `cx` and keeps
/// every write it holds: the pending ones reach the server, and new edits sync (issue 10:
/// existing caches upgrade in place).
@Suite(.serialized) struct CacheUpgradeEndToEndTests {
    /// Rewrites `home`'s cache as a `cx` before incarnations left it: no `replica` journal line
    /// and no `replica` in any `meta.json`.
    func makePreIncarnation(_ home: Home) throws {
        let files = FileManager.default
        let cache = home.path + "/cache"
        var rewritten = 0
        for name in try files.subpathsOfDirectory(atPath: cache) {
            let path = cache + "/" + name
            if name.hasSuffix("journal.jsonl") {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                try Self.withoutReplicaLines(text).write(toFile: path, atomically: false, encoding: .utf8)
                rewritten += 1
            } else if name.hasSuffix("meta.json") {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                var meta = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
                meta.removeValue(forKey: "replica")
                try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: path))
                rewritten += 1
            }
        }
        #expect(rewritten > 0, "the cache has a journal or a meta.json to rewrite")
    }

    /// The journal `text` without its `replica` lines, each batch header counting the lines
    /// that remain in its batch (a batch that loses every line loses its header).
    static func withoutReplicaLines(_ text: String) throws -> String {
        let isReplica: (Substring) -> Bool = { $0.contains("\"op\":\"replica\"") }
        var lines = text.split(separator: "\n")[...]
        var kept: [Substring] = []
        while let line = lines.popFirst() {
            if line.hasPrefix("{\"op\":\"batch\",\"lines\":") {
                let count = try #require(Int(line.dropFirst("{\"op\":\"batch\",\"lines\":".count).dropLast()))
                let members = lines.prefix(count).filter { !isReplica($0) }
                lines = lines.dropFirst(count)
                if !members.isEmpty {
                    kept.append("{\"op\":\"batch\",\"lines\":\(members.count)}")
                    kept.append(contentsOf: members)
                }
            } else if !isReplica(line) {
                kept.append(line)
            }
        }
        return kept.map { $0 + "\n" }.joined()
    }

    @Test func aCacheFromBeforeIncarnationsKeepsItsPendingWritesAndSyncs() async throws {
        try await withServer { server in
            let laptop = try makeHome(server, user: "alice")
            let office = try makeHome(server, user: "hq")
            let id = try laptop.ok("add", "--name", "Acme")
            _ = try laptop.ok("sync")
            _ = try laptop.ok("edit", id, "--phone", "555-0100")  // pending when the upgrade comes
            try makePreIncarnation(laptop)

            let listed = try laptop.ok("list", "--json")
            #expect(listed.contains(id))
            _ = try laptop.ok("edit", id, "--city", "Berlin")
            let sync = try laptop.cx("sync")
            #expect(sync.status == 0, "\(sync)")
            _ = try office.ok("sync")
            let seen = try #require(try office.showJSON(id)["fields"] as? [String: String])
            #expect(seen["phone"] == "555-0100", "the write pending at the upgrade reached the server")
            #expect(seen["city"] == "Berlin", "the edit after the upgrade reached the server")
            let again = try laptop.cx("sync")
            #expect(again.status == 0, "\(again)")
            let status = try #require(try laptop.cx("status", "--json").json() as? [String: Any])
            #expect(status["pending"] as? Int == 0, "\(status)")
        }
    }
}
