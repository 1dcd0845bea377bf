import Foundation
import Testing

/// Issue 11, the server side of "the first hour with cx": what a new user runs into with
/// `cx-server` on the real binaries — admin commands that silently made a second database,
/// hints that could not be pasted, a second `serve` on a taken port, noisy admin commands,
/// unreadable token times, and logs for machines.
@Suite struct FirstHourAdminEndToEndTests {
    /// A scratch `HOME` (state and data directories inside it), as a new user's would be.
    final class ScratchHome: Sendable {
        let path = "/tmp/cx-e2e-user-" + UUID().uuidString.lowercased().prefix(8)
        var environment: [String: String] {
            ["HOME": path, "XDG_STATE_HOME": path + "/state", "XDG_DATA_HOME": path + "/data"]
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func cxServer(_ arguments: [String], environment: [String: String]) throws -> Run {
        try runProcess(try Binaries.path("cx-server"), arguments, environment: environment)
    }

    /// Trap 1: with the server on a non-default `--data-dir`, `cx-server user add` used to create
    /// a new cluster at the default data directory and exit 0.
    @Test func adminCommandsReachTheRunningServerAndNeverCreateADatabase() async throws {
        let user = ScratchHome()
        try await withServer(environment: user.environment) { server in
            // Run next to the server, without --data-dir: the running server is found.
            let added = try Self.cxServer(["user", "add", "alice", "--territory", "north"], environment: user.environment)
            #expect(added.status == 0, "\(added)")
            #expect(!FileManager.default.fileExists(atPath: user.path + "/data/cx-server"), "no second cluster at the default place")
            let listed = try server.admin("user", "list")
            #expect(listed.stdout.contains("alice"), "alice is in the running server's database: \(listed)")
            let issued = try Self.cxServer(["token", "issue", "alice"], environment: user.environment)
            let token = try #require(issued.stdout.firstMatch(of: /cx_[0-9a-f]{52}/).map { String($0.output) }, "\(issued)")
            let home = Home()
            #expect(try home.cx("init", "--server", server.url, "--token", token).status == 0, "the token works at the server")

            // CX_SERVER_DATA_DIR names the database for a whole shell.
            let viaVariable = try Self.cxServer(
                ["user", "list"], environment: ["HOME": user.path + "/other", "CX_SERVER_DATA_DIR": server.dataDirectory])
            #expect(viaVariable.status == 0 && viaVariable.stdout.contains("alice"), "\(viaVariable)")

            // A data directory without a cluster: refused, with where it looked and what to type.
            let wrong = user.path + "/typo"
            let refused = try Self.cxServer(["token", "issue", "alice", "--data-dir", wrong], environment: user.environment)
            #expect(refused.status == 1, "\(refused)")
            #expect(refused.stderr.contains("no cx-server database in \(wrong)"), "\(refused.stderr)")
            #expect(refused.stderr.contains("cx-server token issue alice --data-dir DIR"), "\(refused.stderr)")
            #expect(refused.stderr.contains("CX_SERVER_DATA_DIR") && refused.stderr.contains("--database-url"))
            #expect(!FileManager.default.fileExists(atPath: wrong), "nothing created at \(wrong)")
        }
        // The server removed its record when it stopped.
        let records = (try? FileManager.default.contentsOfDirectory(atPath: user.path + "/state/cx-server/running")) ?? []
        #expect(records.isEmpty, "records left: \(records)")
    }

    /// Trap 1, every hint complete: the first-start banner names the real port and the
    /// `--data-dir` the admin commands need.
    @Test func firstStartBannerIsReadyToPaste() async throws {
        try await withServer { server in
            let banner = server.stdout.value
            #expect(banner.contains("cx init --server http://127.0.0.1:\(server.port) --token \(server.adminToken)"), "\(banner)")
            #expect(banner.contains("cx-server user add NAME --territory T --data-dir \(server.dataDirectory)"), "\(banner)")
            #expect(banner.contains("cx-server token issue NAME --data-dir \(server.dataDirectory)"), "\(banner)")
            let added = try server.admin("user", "add", "bob", "--territory", "north")
            #expect(added.stdout.contains("`cx-server token issue bob --data-dir \(server.dataDirectory)`"), "\(added)")
        }
    }

    /// Trap 8: a second `serve` on a taken port says so, names the port, exits non-zero and
    /// never claims to listen (nor touches a database).
    @Test func secondServeOnATakenPortSaysSo() async throws {
        try await withServer { server in
            let other = "/tmp/cx-e2e-server-" + UUID().uuidString.lowercased().prefix(8)
            defer { try? FileManager.default.removeItem(atPath: other) }
            let second = try Self.cxServer(
                ["serve", "--data-dir", other, "--port", String(server.port)], environment: [:])
            #expect(second.status == 1, "\(second)")
            #expect(second.stderr.contains("port \(server.port) is in use"), "\(second.stderr)")
            #expect(!second.stderr.contains("cx-server listening"), "\(second.stderr)")
            #expect(!FileManager.default.fileExists(atPath: other + "/pgdata"), "no database started for a server that cannot listen")
        }
    }

    /// Trap 8: admin commands print their result and nothing else (no `info` log lines), and
    /// `token list` shows local times to the minute.
    @Test func adminCommandsAreQuietAndShowLocalTimes() async throws {
        try await withServer { server in
            let added = try server.admin("user", "add", "carol", "--territory", "north")
            #expect(added.status == 0 && added.stderr.isEmpty, "\(added)")
            let utc = try runProcess(
                try Binaries.path("cx-server"), ["token", "list", "--data-dir", server.dataDirectory], environment: ["TZ": "UTC0"])
            let east = try runProcess(
                try Binaries.path("cx-server"), ["token", "list", "--data-dir", server.dataDirectory], environment: ["TZ": "XYZ-5:30"])
            #expect(utc.status == 0 && utc.stderr.isEmpty, "\(utc)")
            #expect(utc.stdout.firstMatch(of: /\d\d:\d\d:\d\d/) == nil, "no seconds or fractions: \(utc.stdout)")
            let utcTime = try #require(utc.stdout.firstMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d/).map { String($0.output) }, "\(utc.stdout)")
            let eastTime = try #require(east.stdout.firstMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d/).map { String($0.output) }, "\(east.stdout)")
            #expect(utcTime != eastTime, "times follow TZ: \(utcTime) vs \(eastTime)")
            // The log level still raises on request.
            let verbose = try server.admin("user", "list", "--log-level", "info")
            #expect(verbose.stderr.contains("info"), "\(verbose)")
        }
    }

    /// Trap 10: `serve --log-format json` writes one JSON object per line; each sync has its
    /// request id, user, replica, status and duration.
    @Test func jsonLogsDescribeEachSync() async throws {
        try await withServer(extraArguments: ["--log-format", "json"]) { server in
            let home = try makeHome(server, user: "dana")
            _ = try home.ok("add", "--name", "Acme")
            #expect(try home.cx("sync").status == 0)
            let lines = server.stderr.value.split(separator: "\n").map(String.init)
            #expect(!lines.isEmpty)
            var syncs: [[String: Any]] = []
            for line in lines {
                let object = try #require(
                    try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
                #expect(object["time"] is String && object["level"] is String && object["message"] is String, "\(line)")
                if object["message"] as? String == "sync" { syncs.append(object) }
            }
            let sync = try #require(syncs.first, "no sync line in \(lines)")
            #expect((sync["request_id"] as? String)?.isEmpty == false, "\(sync)")
            #expect((sync["user"] as? String)?.hasPrefix("dana") == true, "\(sync)")
            #expect(sync["replica"] is String, "\(sync)")
            #expect(sync["status"] as? Int == 200, "\(sync)")
            #expect(sync["duration_ms"] is Double || sync["duration_ms"] is Int, "\(sync)")
        }
    }
}
