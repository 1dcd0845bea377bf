import Foundation
import Testing

/// The first sync of an empty home from the server's snapshot (docs/sync-protocol.md §2a), on
/// the real binaries: the same cache as the regular first sync, for admins and reps; a crash at
/// any step leaves a home that loads, and the next sync completes it.
@Suite(.serialized) struct SnapshotPullEndToEndTests {
    /// Whether a sync succeeded: exit 0, or 3 when records are left in conflict (the seed's
    /// merge leaves one).
    func synced(_ run: Run) -> Bool { run.status == 0 || run.status == 3 }

    /// 300 customers over three territories, half with an activity, pushed by an admin; one
    /// merged into another (a tombstone that names its survivor, which is left in conflict).
    func seed(_ server: ServerProcess) throws -> Home {
        let admin = try makeHome(server, user: "hq")
        var csv = "name,territory,tags\n"
        for index in 0..<300 { csv += "Customer \(index),t\(index % 3),bulk\n" }
        try csv.write(toFile: admin.path + "/bulk.csv", atomically: true, encoding: .utf8)
        _ = try admin.ok("import", admin.path + "/bulk.csv")
        let list = try #require(try admin.cx("list", "--json").json() as? [[String: Any]])
        let ids = list.compactMap { $0["id"] as? String }.sorted()
        for id in ids.prefix(150) { _ = try admin.ok("purchase", id, "--amount", "40.00", "--on", "2026-03-01") }
        _ = try admin.ok("merge", ids[0], ids[1])
        let pushed = try admin.cx("sync", "--json")
        #expect(synced(pushed), "\(pushed)")
        return admin
    }

    /// What reads of a home answer: the same for two homes that hold the same records.
    func reads(_ home: Home) throws -> [String] {
        try [["list", "--json"], ["list", "--json", "--deleted"], ["report", "--year", "2026", "--json"], ["conflicts", "--json"]].map { arguments in
            let run = try home.cx(arguments)
            #expect(run.status == 0, "\(arguments): \(run)")
            return run.stdout
        }
    }

    /// How many records the journal of a home's current generation puts: none after a snapshot
    /// (its records are in the tables), every pulled one after a regular first sync this small.
    func journalPuts(_ home: Home) throws -> Int {
        let current = try String(contentsOfFile: home.path + "/cache/CURRENT", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let journal = try String(contentsOfFile: home.path + "/cache/" + current + "/journal.jsonl", encoding: .utf8)
        return journal.split(separator: "\n").filter { $0.hasPrefix("{\"op\":\"put\"") }.count
    }

    @Test func aSnapshotHomeReadsAsARegularOneForAdminsAndReps() async throws {
        try await withServer { server in
            let admin = try seed(server)
            for (role, territories) in [("admin", [String]()), ("rep", ["t1"])] {
                let viaSnapshot = try makeHome(server, user: "s-\(role)", role: role, territories: territories)
                let regular = try makeHome(server, user: "r-\(role)", role: role, territories: territories)
                let snapshot = try viaSnapshot.cx("sync", "--json")
                #expect(synced(snapshot), "\(snapshot)")
                let viaJournal = try regular.cx("sync", "--json", environment: ["CX_SNAPSHOT_PULL": "0"])
                #expect(synced(viaJournal), "\(viaJournal)")
                let pulled = try #require(try snapshot.json() as? [String: Any])["pulled"] as? Int
                #expect(pulled == (try viaJournal.json() as? [String: Any])?["pulled"] as? Int, "\(snapshot)")
                if role == "admin" { #expect(pulled == 450, "300 customers and 150 activities") }
                // The snapshot home's records came into its tables, the regular one's through its journal.
                #expect(try journalPuts(viaSnapshot) == 0)
                #expect(try journalPuts(regular) == pulled)
                #expect(try reads(viaSnapshot) == reads(regular), "\(role)")
                // Both go on the same way: an edit made after arrives in each.
                let first = try #require(try viaSnapshot.cx("list", "--json").json() as? [[String: Any]]).compactMap { $0["id"] as? String }.first
                _ = try admin.ok("edit", try #require(first), "--city", "Lyon")
                #expect(synced(try admin.cx("sync")))
                for home in [viaSnapshot, regular] { #expect(synced(try home.cx("sync"))) }
                #expect(try reads(viaSnapshot) == reads(regular), "\(role) after an edit")
                #expect((try viaSnapshot.showJSON(first!)["fields"] as? [String: String])?["city"] == "Lyon")
            }
        }
    }

    /// The home's first sync dies at a named point (`CX_CRASH_AT`, as `kill -9` would) while it
    /// writes the snapshot: the home must load, hold nothing half-written, and the next sync
    /// must complete it.
    @Test(arguments: ["sync-replied@2", "sync-page-applied@3", "compaction-switch@1", "sync-page-applied@12"])
    func aSnapshotSurvivesACrashAtEveryStep(crashAt point: String) async throws {
        try await withServer { server in
            let admin = try seed(server)
            let home = try makeHome(server, user: "late")
            let crashed = try home.cx("sync", environment: ["CX_SYNC_BATCH": "40", "CX_CRASH_AT": point])
            #expect(crashed.status == 137, "the sync reached \(point) and died there: \(crashed)")
            let listed = try home.cx("list", "--json", "--deleted")
            #expect(listed.status == 0, "\(listed)")
            let resumed = try home.cx("sync", environment: ["CX_SYNC_BATCH": "40"])
            #expect(synced(resumed), "\(resumed)")
            #expect(try reads(home) == reads(admin))
            #expect(!FileManager.default.fileExists(atPath: home.path + "/cache/snapshot-pull"))
        }
    }
}
