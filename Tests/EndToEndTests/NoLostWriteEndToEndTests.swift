import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Issue 10 on the real binaries: one sync per home, no record that blocks every sync, local
/// validation equal to the server's, and activities that leave a territory.
@Suite(.serialized) struct NoLostWriteEndToEndTests {
    /// Holds `cache/sync.lock` of `home` the way a running `cx sync` does, until `release()`.
    final class HeldSyncLock {
        let fd: Int32

        init(_ home: Home) throws {
            try FileManager.default.createDirectory(atPath: home.path + "/cache", withIntermediateDirectories: true)
            fd = open(home.path + "/cache/sync.lock", O_RDWR | O_CREAT, 0o600)
            guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else { throw HarnessError("could not take the sync lock") }
        }

        func release() {
            flock(fd, LOCK_UN)
            close(fd)
        }
    }

    @Test func aSecondSyncOrForgetOfOneHomeWaitsBoundedThenExits75ChangingNothing() async throws {
        try await withServer { server in
            let home = try makeHome(server, user: "admin-lock")
            let id = try home.ok("add", "--name", "Acme")
            let lock = try HeldSyncLock(home)

            let started = Date()
            let blocked = try home.cx("sync", "--wait", "1")
            #expect(blocked.status == 75, "\(blocked)")
            #expect(blocked.stderr.contains("another cx sync"), "\(blocked)")
            #expect(blocked.stderr.contains("--wait"), "\(blocked)")
            #expect(Date().timeIntervalSince(started) >= 1, "it waited the second it was given")
            #expect(try home.cx("status", "--json").json() as? [String: Any] != nil)
            let pending = try #require(try home.cx("status", "--json").json() as? [String: Any])
            #expect(pending["pending"] as? Int == 1, "nothing was pushed")
            let forget = try home.cx("forget", String(id.prefix(8)), "--yes", "--wait", "0")
            #expect(forget.status == 75, "\(forget)")
            // Edits are not blocked by a running sync.
            _ = try home.ok("edit", String(id.prefix(8)), "--phone", "555-0101")

            lock.release()
            let done = try home.cx("sync", "--wait", "1")
            #expect(done.status == 0, "\(done)")
        }
    }

    @Test func twoSyncsStartedTogetherNeverRunAtOnceAndBothFinish() async throws {
        try await withServer { server in
            let home = try makeHome(server, user: "admin-twice")
            for index in 0..<50 { _ = try home.ok("add", "--name", "Customer \(index)") }
            async let first = Task.detached { try home.cx(["sync", "--json"], environment: ["CX_SYNC_BATCH": "5"]) }.value
            async let second = Task.detached { try home.cx(["sync", "--json"], environment: ["CX_SYNC_BATCH": "5"]) }.value
            let runs = try await [first, second]
            #expect(runs.allSatisfy { $0.status == 0 }, "\(runs)")
            let pushed = runs.compactMap { (try? $0.json() as? [String: Any])?["pushed"] as? Int }
            #expect(pushed.sorted() == [0, 50], "one sync pushed everything, the other waited and found nothing: \(runs)")
        }
    }

    @Test func editsTheServerWouldRefuseAreRefusedLocally() async throws {
        let home = Home()
        _ = try home.ok("init")
        let customer = try home.ok("add", "--name", "Acme")
        let purchase = try home.ok("purchase", String(customer.prefix(8)), "--amount", "120.00")
        let unset = try home.cx("edit", String(purchase.prefix(8)), "--unset", "amount")
        #expect(unset.status == 65, "\(unset)")
        #expect(unset.stderr.contains("amount"), "\(unset)")
        #expect(try home.showJSON(String(purchase.prefix(8)))["fields"].flatMap { ($0 as? [String: Any])?["amount"] as? String } == "120.00")
        let noName = try home.cx("edit", String(customer.prefix(8)), "--unset", "name")
        #expect(noName.status == 65, "\(noName)")
        let touch = try home.ok("touch", String(customer.prefix(8)), "--channel", "visit")
        let noChannel = try home.cx("edit", String(touch.prefix(8)), "--unset", "channel")
        #expect(noChannel.status == 65, "\(noChannel)")
    }

    @Test func customersWithLargeNotesGetThroughAStrictServerAndRefusalsNameTheirFix() async throws {
        try await withServer(extraArguments: ["--max-body-bytes", "65536"]) { server in
            let rep = try makeHome(server, user: "rep-large", role: "rep", territories: ["north"])
            let notes = String(repeating: "long visit report ", count: 500)  // 9 KB (at most 10,000 characters a field)
            for index in 0..<12 {
                _ = try rep.ok("add", "--name", "Big \(index)", "--territory", "north", "--notes", notes, "--set", "extra.report=\(notes)")
            }
            let stray = try rep.ok("add", "--name", "Stray", "--territory", "south")
            let run = try rep.cx("sync", "--json")
            #expect(run.status == 77, "\(run)")
            let report = try #require(try run.json() as? [String: Any])
            #expect(report["pushed"] as? Int == 12, "\(run)")
            #expect(run.stderr.contains("cx edit \(stray.prefix(8)) --territory"), "\(run)")
            let status = try #require(try rep.cx("status", "--json").json() as? [String: Any])
            #expect(status["pending"] as? Int == 1)
        }
    }

    @Test func anActivityMovedToAnotherTerritoryLeavesTheOldRepsLaptop() async throws {
        try await withServer { server in
            let ann = try makeHome(server, user: "ann-move", role: "rep", territories: ["north"])
            let mia = try makeHome(server, user: "mia-move", role: "manager", territories: ["north", "south"])
            let nord = try mia.ok("add", "--name", "Nord AG", "--territory", "north")
            let sud = try mia.ok("add", "--name", "Sud SA", "--territory", "south")
            let purchase = try mia.ok("purchase", String(nord.prefix(8)), "--amount", "500.00")
            _ = try mia.ok("sync")
            _ = try ann.ok("sync")
            #expect(try ann.cx("activities", String(nord.prefix(8)), "--json").stdout.contains(purchase))

            // Booked on the wrong customer: the manager moves it to Sud SA.
            _ = try mia.ok("edit", String(purchase.prefix(8)), "--set", "customer_id=\(sud)")
            _ = try mia.ok("sync")
            let report = try #require(try ann.cx("sync", "--json").json() as? [String: Any])
            #expect(report["removed"] as? Int == 1, "\(report)")
            #expect(try ann.cx("show", purchase).status != 0, "the purchase left ann's laptop")
            #expect(!(try ann.cx("activities", String(nord.prefix(8)), "--json").stdout.contains(purchase)))
        }
    }

    /// Ann edits a visit offline while a manager moves it to a customer of the south. Within
    /// the hand-off window her edit is accepted and the visit leaves her laptop; once the window
    /// is over the server refuses such an edit, and `cx forget` is the way out it names.
    @Test func anOldRepsOfflineEditOfAMovedActivityIsHandedOffOrForgotten() async throws {
        try await withServer { server in
            let ann = try makeHome(server, user: "ann-forget", role: "rep", territories: ["north"])
            let mia = try makeHome(server, user: "mia-forget", role: "manager", territories: ["north", "south"])
            let nord = try mia.ok("add", "--name", "Nord AG", "--territory", "north")
            let sud = try mia.ok("add", "--name", "Sud SA", "--territory", "south")
            let visit = try mia.ok("touch", String(nord.prefix(8)), "--channel", "visit")
            let call = try mia.ok("touch", String(nord.prefix(8)), "--channel", "call")
            _ = try mia.ok("sync")
            _ = try ann.ok("sync")

            // Within the window: handed off.
            _ = try ann.ok("edit", String(visit.prefix(8)), "--set", "note=called back")
            _ = try mia.ok("edit", String(visit.prefix(8)), "--set", "customer_id=\(sud)")
            _ = try mia.ok("sync")
            let handedOff = try ann.cx("sync", "--json")
            #expect(handedOff.status == 0, "\(handedOff)")
            #expect(try ann.cx("show", visit).status != 0, "the visit left ann's laptop")
            _ = try mia.ok("sync")
            let fields = try mia.showJSON(visit)["fields"] as? [String: String] ?? [:]
            #expect(fields["note"] == "called back" && fields["customer_id"] == sud, "\(fields)")

            // After the window: refused, and forgotten.
            #expect(try server.admin("settings", "set", "handoff_days", "0").status == 0)
            _ = try ann.ok("edit", String(call.prefix(8)), "--set", "note=no answer")
            _ = try mia.ok("edit", String(call.prefix(8)), "--set", "customer_id=\(sud)")
            _ = try mia.ok("sync")
            let refused = try ann.cx("sync", "--json")
            #expect(refused.status == 77, "\(refused)")
            #expect(refused.stderr.contains("cx forget \(call.prefix(8)) --yes"), "\(refused)")
            let forget = try ann.cx("forget", String(call.prefix(8)), "--yes")
            #expect(forget.status == 0, "\(forget)")
            #expect(try ann.cx("show", call).status != 0)
            #expect(try ann.cx("sync").status == 0)
        }
    }
}
