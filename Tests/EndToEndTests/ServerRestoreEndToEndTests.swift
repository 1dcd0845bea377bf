import Foundation
import Testing

/// A server restored from a backup (or failed over to a lagging standby) loses writes it had
/// acknowledged, and hands out sequence numbers again. Clients notice from their cursor, pull
/// their book again and re-send their own writes; no new change is skipped (issue 10, class 7).
@Suite(.serialized) struct ServerRestoreEndToEndTests {
    /// Stops `server`, puts `backup` (a copy of its data directory) back, starts it again.
    func restore(_ server: ServerProcess, from backup: String) async throws -> ServerProcess {
        server.stop(keepingData: true)
        try FileManager.default.removeItem(atPath: server.dataDirectory)
        let copied = try runProcess("/bin/cp", ["-a", backup, server.dataDirectory])
        guard copied.status == 0 else { throw HarnessError("restore failed: \(copied)") }
        return try await ServerProcess.restart(server)
    }

    /// A backup of the data directory, taken with the server stopped.
    func backup(_ server: ServerProcess) async throws -> (ServerProcess, String) {
        server.stop(keepingData: true)
        let copy = server.dataDirectory + "-backup"
        let copied = try runProcess("/bin/cp", ["-a", server.dataDirectory, copy])
        guard copied.status == 0 else { throw HarnessError("backup failed: \(copied)") }
        return (try await ServerProcess.restart(server), copy)
    }

    func fields(_ home: Home, _ id: String) throws -> [String: String] {
        try #require(try home.showJSON(id)["fields"] as? [String: String])
    }

    @Test(arguments: [false, true]) func acknowledgedWritesComeBackAndNoNewChangeIsSkipped(renewEpoch: Bool) async throws {
        var server = try await ServerProcess.start()
        defer { server.stop() }
        let alice = try makeHome(server, user: "alice"), bob = try makeHome(server, user: "bob"), carol = try makeHome(server, user: "carol")
        let acme = try alice.ok("add", "--name", "Acme")
        for home in [alice, bob, carol] { _ = try home.ok("sync") }
        let (running, backup) = try await backup(server)
        server = running
        defer { try? FileManager.default.removeItem(atPath: backup) }

        // Acknowledged, then lost with the restore.
        _ = try alice.ok("edit", acme, "--phone", "555-0101")
        let globex = try alice.ok("add", "--name", "Globex")
        _ = try alice.ok("sync")
        _ = try bob.ok("sync")
        #expect(try fields(bob, globex)["name"] == "Globex")

        server = try await restore(server, from: backup)
        if renewEpoch {
            let renewed = try server.admin("epoch", "renew")
            #expect(renewed.status == 0, "\(renewed)")
            // With the epoch renewed, new writes may even come first: cursors are still caught.
            _ = try carol.ok("add", "--name", "Initech")
            _ = try carol.ok("add", "--name", "Umbrella")
            _ = try carol.ok("add", "--name", "Hooli")
            _ = try carol.ok("sync")
        }
        let recovered = try bob.cx("sync", "--json")
        #expect(recovered.status == 0, "\(recovered)")
        #expect((try recovered.json() as? [String: Any])?["server_restored"] as? Bool == true)
        _ = try alice.ok("sync")  // re-sends the edit and the customer the server lost
        let initech = renewEpoch ? "" : try carol.ok("add", "--name", "Initech")
        _ = try carol.ok("sync")
        _ = try bob.ok("sync")

        #expect(try fields(bob, acme)["phone"] == "555-0101", "alice's acknowledged edit is back")
        #expect(try fields(bob, globex)["name"] == "Globex", "alice's acknowledged customer is back")
        let names = Set(try #require(try bob.cx("list", "--json").json() as? [[String: Any]]).compactMap {
            ($0["fields"] as? [String: String])?["name"]
        })
        #expect(names.contains("Initech"), "a change made after the restore is not skipped")
        if !renewEpoch { #expect(try fields(bob, initech)["name"] == "Initech") }
        for home in [alice, carol] {
            _ = try home.ok("sync")
            #expect(try fields(home, acme) == (try fields(bob, acme)))
        }
    }
}
