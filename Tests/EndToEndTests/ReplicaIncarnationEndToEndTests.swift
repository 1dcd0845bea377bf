import Foundation
import Testing

/// A dot names one write forever: a cx home restored from a backup, copied to a second laptop,
/// or whose cache was moved away and rebuilt from an export never re-uses a write id the server
/// already holds, so no edit made afterwards is silently dropped (issue 10, class 1).
@Suite(.serialized) struct ReplicaIncarnationEndToEndTests {
    /// The displayed fields of `id` on `home` after a sync.
    func fields(_ home: Home, _ id: String) throws -> [String: String] {
        try #require(try home.showJSON(id)["fields"] as? [String: String])
    }

    /// Every candidate value of `field` on `home` (the displayed value when not in conflict).
    func candidates(_ home: Home, _ id: String, _ field: String) throws -> Set<String> {
        let shown = try home.showJSON(id)
        let conflicts = shown["conflicts"] as? [[String: Any]] ?? []
        if let conflict = conflicts.first(where: { $0["field"] as? String == field }) {
            let values = (conflict["candidates"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String }
            return Set(values)
        }
        return Set([(shown["fields"] as? [String: String])?[field]].compactMap { $0 })
    }

    @Test func editsMadeOnARestoredBackupReachTheServer() async throws {
        try await withServer { server in
            let laptop = try makeHome(server, user: "alice")
            let office = try makeHome(server, user: "hq")
            let id = try laptop.ok("add", "--name", "Acme", "--territory", "north")
            _ = try laptop.ok("sync")
            let backup = try Home(copying: laptop)

            _ = try laptop.ok("edit", id, "--phone", "555-0101", "--segment", "retail")
            _ = try laptop.ok("sync")
            // The laptop dies; yesterday's backup is restored and work goes on.
            try laptop.restore(from: backup)
            _ = try laptop.ok("edit", id, "--city", "Berlin", "--email", "buy@acme.example")
            let sync = try laptop.cx("sync", "--json")
            #expect(sync.status == 0 || sync.status == 3, "\(sync)")
            _ = try laptop.cx("sync")

            _ = try office.cx("sync")
            let seen = try fields(office, id)
            #expect(seen["name"] == "Acme")
            #expect(seen["city"] == "Berlin", "the edit made after the restore reached the server")
            #expect(seen["email"] == "buy@acme.example")
            #expect(seen["phone"] == "555-0101", "the edit lost with the laptop is still on the server")
            #expect(seen["segment"] == "retail")
            #expect(try fields(laptop, id) == seen, "the restored laptop converged")
        }
    }

    /// A snapshot restored in place keeps the cache's files (and so looks like the same
    /// cache); the server's sync token tells it apart.
    @Test func editsMadeOnASnapshotRestoredInPlaceReachTheServer() async throws {
        try await withServer { server in
            let laptop = try makeHome(server, user: "alice")
            let office = try makeHome(server, user: "hq")
            let id = try laptop.ok("add", "--name", "Acme")
            _ = try laptop.ok("sync")
            let snapshot = try Home(copying: laptop)

            _ = try laptop.ok("edit", id, "--phone", "555-0101")
            _ = try laptop.ok("sync")
            try laptop.restoreInPlace(from: snapshot)
            _ = try laptop.ok("edit", id, "--city", "Berlin")
            _ = try laptop.ok("edit", id, "--phone", "555-0199")
            let sync = try laptop.cx("sync", "--json")
            #expect(sync.status == 0 || sync.status == 3, "\(sync)")
            let report = try #require(try sync.json() as? [String: Any])
            #expect(report["new_replica"] is String, "the server's token check found the fork: \(report)")
            _ = try laptop.cx("sync")

            _ = try office.cx("sync")
            let seen = try fields(office, id)
            #expect(seen["city"] == "Berlin")
            #expect(try candidates(office, id, "phone") == ["555-0101", "555-0199"])
            #expect(try fields(laptop, id) == seen)
        }
    }

    /// A snapshot restored in place re-uses dots the server holds; a copy of that home made
    /// before its next sync must not push them on as its own history. Here the re-used dots
    /// leave no entry (a tag added, then removed): only the record's clock claims them, which
    /// the server cannot tell from having seen its phone write (fault suite, seed 550039).
    @Test func aCopyOfARestoredHomeMadeBeforeItsNextSyncErasesNothing() async throws {
        try await withServer { server in
            let laptop = try makeHome(server, user: "alice")
            let office = try makeHome(server, user: "hq")
            let id = try laptop.ok("add", "--name", "Acme")
            _ = try laptop.ok("sync")
            let snapshot = try Home(copying: laptop)

            _ = try laptop.ok("edit", id, "--phone", "555-0101")
            _ = try laptop.ok("sync")
            try laptop.restoreInPlace(from: snapshot)
            // The restored cache writes under the dots the phone edit had.
            _ = try laptop.ok("edit", id, "--tag", "+vip")
            _ = try laptop.ok("edit", id, "--tag", "-vip")
            let copy = try Home(copying: laptop)
            for home in [copy, laptop, copy, laptop] {
                let run = try home.cx("sync")
                #expect(run.status == 0 || run.status == 3, "\(run)")
            }

            _ = try office.cx("sync")
            #expect(try fields(office, id)["phone"] == "555-0101", "the server's phone write stands")
            for home in [laptop, copy] {
                #expect(try fields(home, id) == fields(office, id))
            }
        }
    }

    /// A snapshot taken while a sync had no answer holds that sync's proposed token, which the
    /// server admits as the retry of the live copy's request. The restored copy's next writes
    /// re-use dots the live copy pushed under it; where the record no longer holds them as
    /// entries, only its clock claims them, and the new edit was taken as already seen and
    /// dropped (fault suite, seed 1800010).
    @Test func aSnapshotTakenWhileASyncHadNoAnswerLosesNoEditMadeAfterItsRestore() async throws {
        try await withServer { server in
            let laptop = try makeHome(server, user: "alice")
            let office = try makeHome(server, user: "hq")
            let acme = try laptop.ok("add", "--name", "Acme")
            let globex = try laptop.ok("add", "--name", "Globex")
            _ = try laptop.ok("sync")
            // The network is down: the sync stores its proposed token, and no answer comes.
            let unanswered = try laptop.cx("sync", environment: ["CX_SERVER": "http://127.0.0.1:9", "CX_RETRY_FOR": "0"])
            #expect(unanswered.status != 0, "\(unanswered)")
            let snapshot = try Home(copying: laptop)

            _ = try laptop.ok("edit", globex, "--notes", "called back")
            _ = try laptop.ok("edit", acme, "--notes", "sent a quote")
            _ = try laptop.ok("sync")
            try laptop.restoreInPlace(from: snapshot)
            // The restored cache's next write gets the dot the Globex edit had; Acme's clock
            // on the server already counts it.
            _ = try laptop.ok("edit", acme, "--phone", "555-0199")
            for _ in 0..<2 {
                let run = try laptop.cx("sync")
                #expect(run.status == 0 || run.status == 3, "\(run)")
            }

            _ = try office.cx("sync")
            let seen = try fields(office, acme)
            #expect(seen["phone"] == "555-0199", "the edit made after the restore reached the server")
            #expect(seen["notes"] == "sent a quote")
            #expect(try fields(office, globex)["notes"] == "called back")
            #expect(try fields(laptop, acme) == seen, "the restored laptop converged")
        }
    }

    @Test func aHomeCopiedToASecondLaptopKeepsBothLaptopsEdits() async throws {
        try await withServer { server in
            let first = try makeHome(server, user: "alice")
            let office = try makeHome(server, user: "hq")
            let id = try first.ok("add", "--name", "Acme")
            _ = try first.ok("sync")
            let second = try Home(copying: first)

            _ = try first.ok("edit", id, "--phone", "555-0101", "--city", "Lyon")
            _ = try second.ok("edit", id, "--phone", "555-0199", "--segment", "retail")
            let newID = try second.ok("add", "--name", "Globex")
            for _ in 0..<2 {
                for home in [first, second] {
                    let run = try home.cx("sync")
                    #expect(run.status == 0 || run.status == 3, "\(run)")
                }
            }
            _ = try office.cx("sync")
            let seen = try fields(office, id)
            #expect(seen["city"] == "Lyon")
            #expect(seen["segment"] == "retail")
            #expect(try candidates(office, id, "phone") == ["555-0101", "555-0199"], "both phones stand as a conflict")
            #expect(try fields(office, newID)["name"] == "Globex")
            for home in [first, second] {
                #expect(try fields(home, id) == seen)
                #expect(try candidates(home, id, "phone") == ["555-0101", "555-0199"])
            }
        }
    }

    @Test func aRebuiltCacheFedAnOldExportNeverErasesFields() async throws {
        try await withServer { server in
            let laptop = try makeHome(server, user: "alice")
            let office = try makeHome(server, user: "hq")
            let id = try laptop.ok("add", "--name", "Acme", "--phone", "555-0100")
            _ = try laptop.ok("sync")
            let export = laptop.path + "/../" + UUID().uuidString + ".csv"
            try laptop.ok("export", "--format", "csv").appending("\n").write(toFile: export, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: export) }
            _ = try laptop.ok("edit", id, "--phone", "555-0101", "--city", "Lyon")
            _ = try laptop.ok("sync")

            // The cache is moved away (as the docs advise for a damaged one), the config kept.
            try FileManager.default.moveItem(atPath: laptop.path + "/cache", toPath: laptop.path + "/cache.damaged")
            _ = try laptop.ok("import", export)
            _ = try laptop.ok("edit", id, "--segment", "retail")
            for _ in 0..<2 { _ = try laptop.cx("sync") }

            _ = try office.cx("sync")
            let seen = try fields(office, id)
            #expect(seen["name"] == "Acme", "the name never vanishes")
            #expect(seen["segment"] == "retail", "the edit after the re-import reached the server")
            #expect(seen["city"] == "Lyon")
            #expect(try candidates(office, id, "phone").contains("555-0101"))
            #expect(try fields(laptop, id) == seen)
        }
    }
}
