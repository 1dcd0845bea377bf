import Foundation
import Testing

/// Two `cx-server` processes on one PostgreSQL behind nginx (the upstream and proxy settings of
/// deploy/nginx/cx.conf with its second `server` line enabled): laptops syncing through the proxy at the same time, each request
/// going to either instance, converge, and no change is skipped by a cursor that one instance
/// handed out and the other continues (the sequence lock is PostgreSQL's, not a process's).
@Suite(.serialized) struct TwoInstancesEndToEndTests {
    @Test func laptopsSyncingThroughNginxToTwoInstancesConverge() async throws {
        guard let nginx = Nginx.binary else {
            Issue.record("nginx is not installed: run scripts/install-dependencies (apt-get install nginx)")
            return
        }
        try await withServer(extraArguments: ["--log-format", "json"]) { first in
            let second = try await ServerProcess.startSecondInstance(of: first)
            defer { second.stop() }
            let proxy = try Nginx(binary: nginx, upstreams: [first.port, second.port])
            defer { proxy.stop() }

            // Four laptops, all through the proxy.
            var homes: [Home] = []
            for index in 0..<4 {
                let token = try first.addUser("two-\(index)-" + UUID().uuidString.prefix(6).lowercased())
                let home = Home()
                let initialised = try home.cx("init", "--server", proxy.url, "--token", token)
                #expect(initialised.status == 0, "\(initialised)")
                homes.append(home)
            }
            let shared = try homes[0].ok("add", "--name", "Shared", "--territory", "north", "--json")
            let sharedID = try #require((try JSONSerialization.jsonObject(with: Data(shared.utf8)) as? [String: Any])?["id"] as? String)
            #expect(try homes[0].cx("sync").status == 0)

            // Rounds of concurrent writes and syncs: every laptop adds customers, edits the shared
            // one (concurrent edits of one field become conflicts) and syncs, all at once.
            let rounds = 4, addsPerRound = 3
            for round in 0..<rounds {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (index, home) in homes.enumerated() {
                        group.addTask {
                            for add in 0..<addsPerRound {
                                _ = try home.ok("add", "--name", "r\(round)-h\(index)-\(add)", "--territory", index % 2 == 0 ? "north" : "south")
                            }
                            _ = try home.cx("edit", sharedID, "--city", "city-\(round)-\(index)")
                            let sync = try home.cx("sync")
                            #expect(sync.status == 0 || sync.status == 3, "round \(round), laptop \(index): \(sync)")
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // Quiet: everyone syncs until nothing moves (two passes suffice once writes stop).
            for _ in 0..<2 {
                for home in homes { _ = try home.cx("sync") }
            }

            let exports = try homes.map { try $0.ok("export", "--format", "json") }
            let expected = 1 + rounds * addsPerRound * homes.count
            for (index, export) in exports.enumerated() {
                let records = try #require(try JSONSerialization.jsonObject(with: Data(export.utf8)) as? [[String: Any]])
                #expect(records.count == expected, "laptop \(index) holds every customer written through either instance")
                #expect(export == exports[0], "laptop \(index) equals laptop 0")
            }
            let serverCount = try InsightEndToEndTests().sqlCSV(first, "SELECT count(*) FROM cx.customers WHERE NOT deleted")
            #expect(serverCount == ["count", "\(expected)"])
            // Both instances served syncs: the proxy spread the requests.
            let syncLine = #""message":"sync""#
            #expect((first.stderr.value + first.stdout.value).contains(syncLine), "the first instance took syncs")
            #expect((second.stderr.value + second.stdout.value).contains(syncLine), "the second instance took syncs")
        }
    }
}

/// An nginx in front of local upstreams, with the proxy settings of deploy/nginx/cx.conf (no TLS:
/// the test talks plain HTTP to it).
final class Nginx: @unchecked Sendable {
    // Safe: set up in init, then only read; stop() is called once by the owner.
    static var binary: String? {
        ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    let port: Int
    let directory: String
    private let process: Process
    var url: String { "http://127.0.0.1:\(port)" }

    init(binary: String, upstreams: [Int]) throws {
        port = try ServerProcess.freePort()
        directory = "/tmp/cx-e2e-nginx-" + UUID().uuidString.lowercased().prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let servers = upstreams.map { "        server 127.0.0.1:\($0) max_fails=0;" }.joined(separator: "\n")
        // As root, nginx's workers would drop to `nobody` and could not write the temp files.
        let user = geteuid() == 0 ? "user root;\n" : ""
        let configuration = user + """
            worker_processes 1;
            daemon off;
            pid \(directory)/nginx.pid;
            error_log \(directory)/error.log warn;
            events { worker_connections 512; }
            http {
                access_log \(directory)/access.log;
                client_body_temp_path \(directory)/body;
                proxy_temp_path \(directory)/proxy;
                fastcgi_temp_path \(directory)/fastcgi;
                uwsgi_temp_path \(directory)/uwsgi;
                scgi_temp_path \(directory)/scgi;
                upstream cx_servers {
            \(servers)
                    keepalive 16;
                }
                server {
                    listen 127.0.0.1:\(port);
                    client_max_body_size 64m;
                    location / {
                        proxy_pass http://cx_servers;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Host $host;
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_read_timeout 120s;
                        proxy_next_upstream error timeout non_idempotent;
                    }
                }
            }
            """
        try configuration.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-c", directory + "/nginx.conf", "-p", directory, "-e", directory + "/error.log"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if (try? runProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", url + "/readyz"]))?.stdout == "200" { return }
            guard process.isRunning else { break }
            usleep(100_000)
        }
        let log = (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? ""
        process.terminate()
        throw HarnessError("nginx did not start: \(log)")
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
