import Foundation
import Testing

/// A merge of duplicate customers — one made in SQL (`cx.merge_customers`), one on a laptop
/// (`cx merge`) — reaches two laptops that edited the dropped and the kept customer offline:
/// after both sync until quiet, every home and the server agree; the offline edits of the
/// dropped customer are on the survivor (a real disagreement as a conflict), its new
/// activities moved there, nothing lost.
@Suite struct DuplicateMergeEndToEndTests {
    func psql(_ server: ServerProcess, _ sql: String, user: String = "cx") throws -> [String] {
        let run = try runProcess("/usr/bin/psql", [
            "host=\(server.dataDirectory)/socket dbname=cx user=\(user)", "-X", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", sql,
        ])
        guard run.status == 0 else { throw HarnessError("psql failed: \(run)") }
        return run.trimmed.isEmpty ? [] : run.trimmed.split(separator: "\n").map(String.init)
    }

    /// Syncs every home in turn until a round changes nothing anywhere (at most 4 rounds).
    func syncUntilQuiet(_ homes: [Home]) throws -> [[String: Any]] {
        var reports: [[String: Any]] = []
        for _ in 0..<4 {
            var changed = false
            for home in homes {
                let run = try home.cx("sync", "--json")
                #expect(run.status == 0 || run.status == 3, "\(run)")
                let report = try #require(try run.json() as? [String: Any])
                reports.append(report)
                if (report["pushed"] as? Int ?? 0) > 0 || (report["pulled"] as? Int ?? 0) > 0 { changed = true }
            }
            if !changed { break }
        }
        return reports
    }

    /// What a home shows of a customer, in a form to compare across homes.
    func shown(_ home: Home, _ id: String) throws -> String {
        try home.ok("show", id, "--json")
    }

    func activities(_ home: Home, _ id: String) throws -> Set<String> {
        let list = try #require(try JSONSerialization.jsonObject(with: Data(try home.ok("activities", id, "--json").utf8)) as? [[String: Any]])
        return Set(list.compactMap { $0["id"] as? String })
    }

    func conflictValues(_ home: Home, _ id: String, _ field: String) throws -> Set<String> {
        let show = try home.showJSON(id)
        let conflicts = show["conflicts"] as? [[String: Any]] ?? []
        let candidates = conflicts.first { $0["field"] as? String == field }?["candidates"] as? [[String: Any]] ?? []
        return Set(candidates.compactMap { $0["value"] as? String })
    }

    @Test func aMergeInSQLAndOneWithCXMergeReachLaptopsThatEditedOffline() async throws {
        try await withServer { server in
            let a = try makeHome(server, user: "alice"), b = try makeHome(server, user: "bob")
            // Two pairs of duplicates: one merged in SQL, one with `cx merge` on laptop a.
            let keep1 = try a.ok("add", "--name", "Acme GmbH", "--phone", "555-0100", "--territory", "north")
            let drop1 = try a.ok("add", "--name", "ACME GmbH", "--phone", "555-0100", "--email", "info@acme.example", "--territory", "north", "--tag", "vip")
            let sale1 = try a.ok("purchase", drop1, "--amount", "120.00", "--on", "2026-03-01")
            let keep2 = try a.ok("add", "--name", "Beta Trading Ltd", "--territory", "north", "--set", "city=Leeds")
            let drop2 = try a.ok("add", "--name", "Beta Trading Limited", "--phone", "0113 496 0000", "--territory", "north", "--set", "city=Leeds")
            _ = try syncUntilQuiet([a, b])
            _ = try psql(server, "CREATE ROLE erin LOGIN IN ROLE cx_analyst, cx_editor")

            // Laptop a and the SQL list the same likely duplicates.
            let laptopPairs = try #require(try JSONSerialization.jsonObject(with: Data(try a.ok("duplicates", "--json").utf8)) as? [[String: Any]])
            let sqlPairs = try psql(server, "SELECT customer_id, duplicate_id, array_to_string(reasons, ',') FROM cx.duplicate_candidates", user: "erin")
            #expect(laptopPairs.count == 2)
            #expect(laptopPairs.map { "\($0["customer_id"]!)|\($0["duplicate_id"]!)|\(($0["reasons"] as? [String] ?? []).joined(separator: ","))" } == sqlPairs)

            // Offline: a edits the kept customers and merges pair 2; b edits the duplicates and
            // logs a visit to one of them; the central team merges pair 1 in SQL.
            _ = try a.ok("edit", keep1, "--set", "city=Berlin")
            _ = try a.ok("edit", keep2, "--set", "notes=key account")
            let merged = try #require(try JSONSerialization.jsonObject(with: Data(try a.ok("merge", keep2, drop2, "--json").utf8)) as? [String: Any])
            #expect(merged["filled"] as? [String] == ["phone"])
            _ = try b.ok("edit", drop1, "--phone", "555-0199", "--set", "notes=called today")
            let visit1 = try b.ok("touch", drop1, "--channel", "visit", "--on", "2026-03-05")
            _ = try b.ok("edit", drop2, "--phone", "0113 496 0999", "--set", "segment=retail")
            let summary = try #require(try psql(server, "SELECT cx.merge_customers('\(keep1)', '\(drop1)')", user: "erin").first)
            #expect(summary.contains(#""moved": 1"#))

            let reports = try syncUntilQuiet([a, b, a, b])
            let redirected = reports.flatMap { $0["redirected"] as? [[String: Any]] ?? [] }
            #expect(Set(redirected.compactMap { $0["id"] as? String }).isSuperset(of: [drop1, drop2, visit1]), "\(redirected)")

            // Every home shows the same survivors, tombstones and activities.
            for id in [keep1, drop1, keep2, drop2] { #expect(try shown(a, id) == shown(b, id), "\(id)") }
            for home in [a, b] {
                let one = try home.showJSON(keep1)["fields"] as? [String: String] ?? [:]
                #expect(one["city"] == "Berlin" && one["email"] == "info@acme.example" && one["notes"] == "called today")
                #expect(try conflictValues(home, keep1, "phone") == ["555-0100", "555-0199"], "b's edit of the duplicate stands beside the kept value")
                #expect(try conflictValues(home, keep1, "name") == ["Acme GmbH", "ACME GmbH"])
                #expect(try home.showJSON(keep1)["tags"] as? [String] == ["vip"])
                #expect(try activities(home, keep1) == [sale1, visit1])
                let two = try home.showJSON(keep2)["fields"] as? [String: String] ?? [:]
                #expect(two["notes"] == "key account" && two["segment"] == "retail" && two["city"] == "Leeds")
                #expect(try conflictValues(home, keep2, "phone") == ["0113 496 0000", "0113 496 0999"])
                for (dropped, survivor) in [(drop1, keep1), (drop2, keep2)] {
                    let tombstone = try home.showJSON(dropped)
                    #expect(tombstone["deleted"] as? Bool == true, "\(dropped)")
                    #expect((tombstone["fields"] as? [String: String])?["extra.merged_into"] == survivor)
                }
            }
            // The server agrees.
            for (dropped, survivor) in [(drop1, keep1), (drop2, keep2)] {
                #expect(try psql(server, "SELECT deleted, extra ->> 'merged_into' FROM cx.customers WHERE id = '\(dropped)'") == ["t|\(survivor)"])
            }
            #expect(try psql(server, "SELECT count(*) FROM cx.activities WHERE customer_id = '\(keep1)' AND NOT deleted") == ["2"])
            #expect(try psql(server, "SELECT count(*) FROM cx.customers WHERE id IN ('\(drop1)', '\(drop2)') AND deleted AND NOT has_conflicts") == ["2"])
            let sqlPhone = try psql(server, "SELECT jsonb_path_query_array(candidates, '$[*].value') FROM cx.conflicts WHERE record = '\(keep1)' AND field = 'phone'")
            #expect(sqlPhone.count == 1 && sqlPhone[0].contains("555-0100") && sqlPhone[0].contains("555-0199"))
            #expect(try psql(server, "SELECT count(*) FROM cx.duplicate_candidates WHERE '\(drop1)' IN (customer_id, duplicate_id)") == ["0"])
        }
    }

    /// A rep merges two customers of their territory offline while a manager moves the survivor
    /// to another territory. The server refuses the rep's write of the survivor; the
    /// duplicate's tombstone must not land alone (its values would stand on a deleted record,
    /// seen by no one): it waits, pending and reported. Forgetting the survivor discards the
    /// merge, and the duplicate comes back as the server has it.
    @Test func aMergeWhoseSurvivorTheServerRefusesWaitsInsteadOfDeletingTheDuplicate() async throws {
        try await withServer { server in
            let ben = try makeHome(server, user: "ben", role: "rep", territories: ["south"], exactName: true)
            let mia = try makeHome(server, user: "mia", role: "manager", territories: ["north", "south"], exactName: true)
            let keep = try mia.ok("add", "--name", "Acme GmbH", "--territory", "south")
            let drop = try mia.ok("add", "--name", "ACME GmbH", "--phone", "555-0100", "--territory", "south")
            _ = try syncUntilQuiet([mia, ben])
            // No hand-off window: once moved, the survivor is out of ben's reach at once.
            #expect(try server.admin("settings", "set", "handoff_days", "0").status == 0)

            _ = try ben.ok("merge", keep, drop)
            _ = try mia.ok("edit", keep, "--territory", "north")
            _ = try mia.ok("sync")

            let sync = try ben.cx("sync", "--json")
            #expect(sync.status == 77, "\(sync)")
            let rejected = try #require(try sync.json() as? [String: Any])["rejected"] as? [[String: Any]] ?? []
            let codes = Dictionary(rejected.map { ($0["id"] as? String ?? "", $0["code"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
            #expect(codes[keep] == "out_of_scope", "\(rejected)")
            #expect(codes[drop] == "merge_waiting", "\(rejected)")
            #expect(sync.stderr.contains("merge_waiting"), "\(sync.stderr)")
            // The server still shows the duplicate with its phone: nothing stands on a tombstone alone.
            #expect(try psql(server, "SELECT deleted, phone FROM cx.customers WHERE id = '\(drop)'") == ["f|555-0100"])
            #expect(try ben.showJSON(drop)["deleted"] as? Bool == true, "the laptop keeps its merge, pending")

            // The way out named by the refusal of the survivor: forget it; that discards the merge.
            let refused = try ben.cx("forget", keep)
            #expect(refused.status != 0 && refused.stderr.contains("merged into it on this laptop"), "\(refused)")
            let forgot = try ben.ok("forget", keep, "--yes")
            #expect(forgot.contains("Discarded the merge"), "\(forgot)")
            let after = try ben.cx("sync", "--json")
            #expect(after.status == 0, "\(after)")
            let restored = try ben.showJSON(drop)
            #expect(restored["deleted"] as? Bool == false && (restored["fields"] as? [String: String])?["phone"] == "555-0100", "\(restored)")
            #expect(try ben.cx("show", keep).status != 0, "the survivor left ben's territories")
            #expect((try ben.cx("status", "--json").json() as? [String: Any])?["pending"] as? Int == 0)
            #expect(try shown(mia, drop) == shown(ben, drop))
        }
    }
}
