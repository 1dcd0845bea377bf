import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `cx` against a real `cx-server` (embedded PostgreSQL), one server per test.
@Suite(.serialized) struct SyncEndToEndTests {
    @Test func addOnOneHomeIsSeenOnAnotherAfterSync() async throws {
        try await withServer { server in
            let laptop = try makeHome(server, user: "alice")
            let desktop = try makeHome(server, user: "bob")
            let id = try laptop.ok("add", "--name", "Acme", "--territory", "north", "--tag", "b2b")
            let purchase = try laptop.ok("purchase", String(id.prefix(8)), "--amount", "120", "--margin", "0.12", "--on", "2026-03-01")
            #expect(try laptop.cx("sync").status == 0)
            let sync = try desktop.cx("sync", "--json")
            #expect(sync.status == 0, "\(sync)")
            let report = try #require(try sync.json() as? [String: Any])
            #expect(Set(report.keys) == ["pushed", "pulled", "conflicts", "rejected", "removed", "kept", "duration_ms"])
            #expect(report["pulled"] as? Int == 2)
            let shown = try desktop.showJSON(String(id.prefix(10)))
            #expect((shown["fields"] as? [String: String])?["name"] == "Acme")
            #expect((shown["fields"] as? [String: String])?["owner"]?.hasPrefix("alice") == true)
            #expect(shown["tags"] as? [String] == ["b2b"])
            let activities = try #require(try desktop.cx("activities", id, "--json").json() as? [[String: Any]])
            #expect(activities.map { $0["id"] as? String } == [purchase])
            #expect((activities.first?["fields"] as? [String: String])?["due_on"] == "2026-03-31")
            let status = try #require(try laptop.cx("status", "--json").json() as? [String: Any])
            #expect(status["pending"] as? Int == 0)
            #expect(status["last_sync"] is String)
        }
    }

    @Test func concurrentEditsOfDifferentFieldsMergeSilently() async throws {
        try await withServer { server in
            let a = try makeHome(server, user: "alice"), b = try makeHome(server, user: "bob")
            let id = try a.ok("add", "--name", "Acme")
            _ = try a.ok("sync")
            _ = try b.ok("sync")
            _ = try a.ok("edit", id, "--phone", "555-0101")
            _ = try b.ok("edit", id, "--city", "Lyon", "--tag", "+vip")
            #expect(try a.cx("sync").status == 0)
            #expect(try b.cx("sync").status == 0)
            #expect(try a.cx("sync").status == 0)
            for home in [a, b] {
                let fields = try #require(try home.showJSON(id)["fields"] as? [String: String])
                #expect(fields["phone"] == "555-0101")
                #expect(fields["city"] == "Lyon")
                #expect(try home.showJSON(id)["conflicts"] as? [Any] != nil)
                #expect((try home.showJSON(id)["conflicts"] as? [Any])?.isEmpty == true)
                #expect(try home.ok("conflicts") == "No conflicts.")
            }
        }
    }

    @Test func sameFieldConflictIsShownEverywhereAndResolvedEverywhere() async throws {
        try await withServer { server in
            let a = try makeHome(server, user: "alice"), b = try makeHome(server, user: "bob")
            let id = try a.ok("add", "--name", "Acme")
            _ = try a.ok("sync")
            _ = try b.ok("sync")
            _ = try a.ok("edit", id, "--phone", "555-0101")
            _ = try b.ok("edit", id, "--phone", "555-0199")
            #expect(try a.cx("sync").status == 0)
            #expect(try b.cx("sync").status == 3)
            #expect(try a.cx("sync").status == 3)
            let fromA = try a.cx("conflicts", "--json"), fromB = try b.cx("conflicts", "--json")
            #expect(fromA.stdout == fromB.stdout)
            let conflicts = try #require(try fromA.json() as? [[String: Any]])
            #expect(conflicts.count == 1)
            #expect(conflicts[0]["id"] as? String == id)
            #expect(conflicts[0]["name"] as? String == "Acme")
            #expect(conflicts[0]["field"] as? String == "phone")
            let candidates = try #require(conflicts[0]["candidates"] as? [[String: Any]])
            #expect(Set(candidates.compactMap { $0["value"] as? String }) == ["555-0101", "555-0199"])
            #expect(candidates.allSatisfy { Set($0.keys) == ["value", "replica", "user", "at"] })
            #expect(try a.showJSON(id)["fields"].map { ($0 as? [String: String])?["phone"] } == (try b.showJSON(id)["fields"] as? [String: String])?["phone"])
            let human = try a.ok("conflicts")
            #expect(human.contains("phone: [1] '"))
            #expect(human.contains("set by alice-"))
            #expect(human.contains("set by bob-"))

            let pick = candidates.firstIndex { $0["value"] as? String == "555-0199" }! + 1
            let resolved = try b.cx("resolve", String(id.prefix(8)), "phone", "--pick", String(pick), "--json")
            #expect(resolved.status == 0)
            // The value kept, named: numbers may change under a concurrent sync, the answer says which.
            let answer = try #require(try resolved.json() as? [String: Any])
            #expect(answer["id"] as? String == id)
            #expect(answer["field"] as? String == "phone")
            #expect(answer["value"] as? String == "555-0199")
            #expect(try b.cx("sync").status == 0)
            #expect(try a.cx("sync").status == 0)
            for home in [a, b] {
                #expect((try home.showJSON(id)["fields"] as? [String: String])?["phone"] == "555-0199")
                #expect(try home.cx("conflicts", "--json").trimmed == "[]")
            }
        }
    }

    @Test func deleteConcurrentWithEditIsAConflictUntilResolved() async throws {
        try await withServer { server in
            let a = try makeHome(server, user: "alice"), b = try makeHome(server, user: "bob")
            let id = try a.ok("add", "--name", "Acme")
            _ = try a.ok("sync")
            _ = try b.ok("sync")
            _ = try a.ok("rm", id)
            _ = try b.ok("edit", id, "--notes", "called today")
            let refused = try a.cx("edit", id, "--phone", "1")
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("deleted"))
            _ = try a.cx("sync")
            #expect(try b.cx("sync").status == 3)
            #expect(try a.cx("sync").status == 3)
            for home in [a, b] {
                let shown = try home.showJSON(id)
                #expect(shown["deleted"] as? Bool == false)
                let conflicts = try #require(shown["conflicts"] as? [[String: Any]])
                #expect(conflicts.first?["field"] as? String == "deleted")
                #expect((conflicts.first?["candidates"] as? [[String: Any]])?.compactMap { $0["value"] as? String } == ["keep", "delete"])
                #expect(try home.ok("list").contains("Acme"))
            }
            let kept = try #require(try a.cx("resolve", id, "deleted", "--value", "keep", "--json").json() as? [String: Any])
            #expect(kept["value"] as? String == "keep")
            #expect(try a.cx("sync").status == 0)
            #expect(try b.cx("sync").status == 0)
            for home in [a, b] {
                let shown = try home.showJSON(id)
                #expect(shown["deleted"] as? Bool == false)
                #expect((shown["conflicts"] as? [Any])?.isEmpty == true)
                #expect((shown["fields"] as? [String: String])?["notes"] == "called today")
            }
            // A plain delete, seen by the other replica, hides the record there.
            _ = try b.ok("rm", id)
            #expect(try b.cx("sync").status == 0)
            #expect(try a.cx("sync").status == 0)
            #expect(try a.showJSON(id)["deleted"] as? Bool == true)
            #expect(try a.cx("list", "--json").trimmed == "[]")
        }
    }

    @Test func offlineEditsSyncLaterAndServerDownKeepsThem() async throws {
        try await withServer { server in
            let token = try server.addUser("carol")
            let home = Home()
            // The server is unreachable at init: init still succeeds, offline.
            let deadPort = try ServerProcess.freePort()
            let offline = try home.cx("init", "--server", "http://127.0.0.1:\(deadPort)", "--token", token)
            #expect(offline.status == 0, "\(offline)")
            #expect(offline.stderr.contains("warning"))
            let first = try home.ok("add", "--name", "Offline One")
            let second = try home.ok("add", "--name", "Offline Two")
            _ = try home.ok("edit", first, "--email", "one@example.com")
            let started = Date()
            let down = try home.cx("sync")
            #expect(down.status == 69, "\(down)")
            #expect(down.stderr.contains("Local changes are kept"))
            #expect(Date().timeIntervalSince(started) < 30)
            let status = try #require(try home.cx("status", "--json").json() as? [String: Any])
            #expect(status["pending"] as? Int == 2)
            // Back online (flag beats the configuration).
            let up = try home.cx("sync", "--server", server.url, "--json")
            #expect(up.status == 0, "\(up)")
            #expect((try up.json() as? [String: Any])?["pushed"] as? Int == 2)
            #expect((try home.cx("status", "--json").json() as? [String: Any])?["pending"] as? Int == 0)
            let other = try makeHome(server, user: "dave")
            _ = try other.ok("sync")
            #expect((try other.showJSON(first)["fields"] as? [String: String])?["email"] == "one@example.com")
            #expect((try other.showJSON(second)["fields"] as? [String: String])?["name"] == "Offline Two")
        }
    }

    @Test func badTokenExits77AndKeepsChanges() async throws {
        try await withServer { server in
            let home = try makeHome(server, user: "erin")
            let id = try home.ok("add", "--name", "Kept")
            let refused = try home.cx("sync", environment: ["CX_TOKEN": "cx_" + String(repeating: "0", count: 52)])
            #expect(refused.status == 77, "\(refused)")
            #expect(refused.stderr.contains("token"))
            #expect((try home.cx("status", "--json").json() as? [String: Any])?["pending"] as? Int == 1)
            #expect(try home.cx("show", id).status == 0)
            #expect(try home.cx("sync").status == 0)
        }
    }
}

@Suite(.serialized) struct PagedSyncEndToEndTests {
    /// B's first sync dies at a named point (`CX_CRASH_AT`, as `kill -9` would): whatever it
    /// saved must load, and the next sync must finish the job with nothing missing or pending.
    @Test(arguments: ["sync-replied@1", "sync-replied@4", "sync-page-applied@2", "journal-written@3", "compaction-switch@1"])
    func pagedSyncSurvivesACrashAtEveryStepAndResumes(crashAt point: String) async throws {
        try await withServer { server in
            let a = try makeHome(server, user: "paula"), b = try makeHome(server, user: "quinn")
            var csv = "name,territory,tags\n"
            for index in 0..<450 { csv += "Customer \(index),t\(index % 3),bulk\n" }
            try csv.write(toFile: a.path + "/bulk.csv", atomically: true, encoding: .utf8)
            _ = try a.ok("import", a.path + "/bulk.csv")
            let small = ["CX_SYNC_BATCH": "50"]
            let pushed = try a.cx("sync", "--json", environment: small)
            #expect(pushed.status == 0, "\(pushed)")
            #expect((try pushed.json() as? [String: Any])?["pushed"] as? Int == 450)
            // B edits one record offline first, so its sync pushes as well as pulls.
            _ = try b.ok("add", "--name", "Quinn's own")

            let crashed = try b.cx(
                "sync", environment: ["CX_SYNC_BATCH": "50", "CX_COMPACTION_THRESHOLD": "20000", "CX_CRASH_AT": point])
            #expect(crashed.status == 137, "the sync reached \(point) and died there: \(crashed)")
            #expect(try b.cx("list", "--json").status == 0)
            let resumed = try b.cx("sync", environment: small)
            #expect(resumed.status == 0, "\(resumed)")
            let list = try #require(try b.cx("list", "--json").json() as? [[String: Any]])
            #expect(list.count == 451)
            let north = try #require(try b.cx("list", "--territory", "t1", "--json").json() as? [[String: Any]])
            #expect(north.count == 150)
            #expect((try b.cx("status", "--json").json() as? [String: Any])?["pending"] as? Int == 0)
            _ = try a.ok("sync")
            #expect(try #require(try a.cx("list", "--json").json() as? [[String: Any]]).count == 451)
        }
    }
}
