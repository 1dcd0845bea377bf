import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Teams on the real binaries: two reps in different territories and a manager over both, each
/// on their own `cx` home.
@Suite(.serialized) struct ScopedSyncEndToEndTests {
    /// The names of the customers in a home's cache.
    func names(_ home: Home) throws -> Set<String> {
        let list = try #require(try home.cx("list", "--json").json() as? [[String: Any]])
        return Set(list.compactMap { ($0["fields"] as? [String: String])?["name"] })
    }

    func syncReport(_ home: Home, expecting status: Int32 = 0) throws -> [String: Any] {
        let run = try home.cx("sync", "--json")
        #expect(run.status == status, "\(run)")
        return try #require(try run.json() as? [String: Any], "\(run)")
    }

    @Test func everyoneSeesExactlyTheirBookAndAReassignmentKeepsTheOfflineEdit() async throws {
        try await withServer { server in
            let ann = try makeHome(server, user: "ann", role: "rep", territories: ["north"], exactName: true)
            let ben = try makeHome(server, user: "ben", role: "rep", territories: ["south"], exactName: true)
            let mia = try makeHome(server, user: "mia", role: "manager", territories: ["north", "south"], exactName: true)

            let nord = try ann.ok("add", "--name", "Nord AG", "--territory", "north")
            let purchase = try ann.ok("purchase", nord, "--amount", "250.00", "--on", "2026-04-01")
            _ = try ben.ok("add", "--name", "Sud SA", "--territory", "south")
            for home in [ann, ben, mia] { _ = try syncReport(home) }
            for home in [ann, ben] { _ = try syncReport(home) }
            #expect(try names(ann) == ["Nord AG"])
            #expect(try names(ben) == ["Sud SA"])
            let status = try #require(try ann.cx("status", "--json").json() as? [String: Any])
            #expect(status["scope"] as? NSDictionary == ["role": "rep", "territories": ["north"]] as NSDictionary)
            #expect(try ann.ok("status").split(separator: "\n").contains { $0.hasPrefix("Scope:") && $0.hasSuffix("rep of north") })
            #expect(try names(mia) == ["Nord AG", "Sud SA"])

            // A rep cannot put a customer in a territory she does not hold: refused, kept, exit 77.
            let stray = try ann.ok("add", "--name", "Stray GmbH", "--territory", "south")
            let refused = try ann.cx("sync", "--json")
            #expect(refused.status == 77, "\(refused)")
            let report = try #require(try refused.json() as? [String: Any])
            let rejected = try #require(report["rejected"] as? [[String: Any]])
            #expect(rejected.map { $0["code"] as? String } == ["territory_not_held"])
            #expect(refused.stderr.contains("Stray GmbH") || refused.stderr.contains(String(stray.prefix(8))))
            #expect(try names(ann).contains("Stray GmbH"), "the refused record stays in the cache")
            _ = try ann.ok("edit", stray, "--territory", "north")
            _ = try syncReport(ann)
            _ = try syncReport(mia)
            #expect(try names(mia) == ["Nord AG", "Sud SA", "Stray GmbH"])

            // Offline, Ann edits Nord AG while Mia moves it to the south.
            _ = try ann.ok("edit", nord, "--phone", "+49 30 123456")
            _ = try mia.ok("edit", nord, "--territory", "south")
            _ = try syncReport(mia)
            let handOff = try syncReport(ann)
            #expect(handOff["pushed"] as? Int == 1, "the offline edit is pushed first (hand-off)")
            #expect((handOff["rejected"] as? [Any])?.isEmpty == true)
            #expect(handOff["removed"] as? Int == 2, "Nord AG and its purchase leave Ann's laptop")
            #expect(try names(ann) == ["Stray GmbH"])
            #expect(try ann.cx("show", nord).status != 0)

            _ = try syncReport(ben)
            #expect(try names(ben) == ["Sud SA", "Nord AG"])
            let moved = try ben.showJSON(nord)
            #expect((moved["fields"] as? [String: String])?["phone"] == "+49 30 123456", "Ann's offline edit reached Ben")
            let activities = try #require(try ben.cx("activities", nord, "--json").json() as? [[String: Any]])
            #expect(activities.map { $0["id"] as? String } == [purchase])
            _ = try syncReport(mia)
            #expect((try mia.showJSON(nord)["fields"] as? [String: String])?["phone"] == "+49 30 123456")

            // The audit trail, as Ben's history shows it: Ann created it and handed off her edit, Mia moved it.
            let history = try #require(try ben.cx("history", nord, "--json").json() as? [String: Any])
            let entries = try #require(history["entries"] as? [[String: Any]])
            #expect(entries.map { $0["user"] as? String } == ["ann", "mia", "ann"])
            #expect(entries.map { $0["operation"] as? String } == ["insert", "update", "update"])
            #expect(try ann.cx("history", nord).status == 1, "the customer's history is no longer Ann's to read")

            // Ann loses the north: her next sync re-syncs her book, which is now empty.
            let removal = try server.admin("user", "remove-territory", "ann", "north")
            #expect(removal.status == 0, "\(removal)")
            let rescope = try syncReport(ann)
            #expect(rescope["removed"] as? Int == 1)
            #expect(try names(ann).isEmpty)
            // Ben gains it and gets its customers.
            #expect(try server.admin("user", "add-territory", "ben", "north").status == 0)
            _ = try syncReport(ben)
            #expect(try names(ben) == ["Sud SA", "Nord AG", "Stray GmbH"])
        }
    }

    @Test func anEditRefusedAfterTheHandOffWindowIsKeptUntilTheRepForgetsIt() async throws {
        try await withServer { server in
            let ann = try makeHome(server, user: "ann", role: "rep", territories: ["north"], exactName: true)
            let mia = try makeHome(server, user: "mia", role: "manager", territories: ["north", "south"], exactName: true)
            #expect(try server.admin("settings", "set", "handoff_days", "0").status == 0)
            let nord = try ann.ok("add", "--name", "Nord AG", "--territory", "north")
            let mine = try ann.ok("add", "--name", "Still Mine", "--territory", "north")
            _ = try syncReport(ann)
            _ = try syncReport(mia)

            _ = try ann.ok("edit", nord, "--phone", "+49 30 999")
            _ = try mia.ok("edit", nord, "--territory", "south")
            _ = try syncReport(mia)
            let refused = try syncReport(ann, expecting: 77)
            #expect((refused["rejected"] as? [[String: Any]])?.map { $0["code"] as? String } == ["out_of_scope"])
            let kept = try #require(refused["kept"] as? [[String: Any]])
            #expect(kept.map { $0["id"] as? String } == [nord])
            #expect((try ann.showJSON(nord)["fields"] as? [String: String])?["phone"] == "+49 30 999", "the edit is still on the laptop")
            // Every sync reports it until the rep deals with it.
            _ = try syncReport(ann, expecting: 77)

            let withoutYes = try ann.cx("forget", nord)
            #expect(withoutYes.status == 1 && withoutYes.stderr.contains("--yes"), "\(withoutYes)")
            let inScope = try ann.cx("forget", mine, "--yes")
            #expect(inScope.status == 1 && inScope.stderr.contains("in your territories"), "\(inScope)")
            let forgot = try ann.cx("forget", nord, "--yes")
            #expect(forgot.status == 0, "\(forgot)")
            #expect(try names(ann) == ["Still Mine"])
            let clean = try syncReport(ann)
            #expect((clean["kept"] as? [Any])?.isEmpty == true)
            #expect(try names(ann) == ["Still Mine"])
        }
    }

    @Test func aRateLimitedSyncWaitsAsToldAndFinishes() async throws {
        // Two requests at once, then one every 2 s: six one-record requests must wait for the limit.
        try await withServer(extraArguments: ["--rate-limit", "0.5", "--rate-burst", "2"]) { server in
            let home = try makeHome(server, user: "ann", role: "rep", territories: ["north"], exactName: true)
            for index in 0..<4 {
                _ = try home.ok("add", "--name", "Customer \(index)", "--territory", "north")
            }
            let run = try home.cx(["sync", "--json"], environment: ["CX_SYNC_BATCH": "1"])
            #expect(run.status == 0, "\(run)")
            let report = try #require(try run.json() as? [String: Any])
            #expect(report["pushed"] as? Int == 4)
            #expect((try home.cx("status", "--json").json() as? [String: Any])?["pending"] as? Int == 0)
            let (body, _) = try await URLSession.shared.data(from: try #require(URL(string: server.url + "/metrics")))
            let metrics = String(decoding: body, as: UTF8.self)
            let limited = metrics.split(separator: "\n").first { $0.hasPrefix("cx_requests_rate_limited_total") }
            #expect(limited.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 1 } == true, "the server did limit: \(metrics.suffix(2000))")
        }
    }
}
