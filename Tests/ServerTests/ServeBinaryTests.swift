import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Runs the real `cx-server` binary: first start on an empty data directory prints the admin
/// token; SIGTERM shuts down gracefully and stops the embedded PostgreSQL; a restart keeps the
/// data and does not mint a second admin token; admin subcommands reach the running cluster.
@Suite struct ServeBinaryTests {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cx-server")
    }

    /// A started `cx-server serve` with its output captured.
    final class RunningServer: @unchecked Sendable {
        // Mutable state is touched only by the test's own task, and the pipes' readers run
        // after the process exited; nothing is shared concurrently.
        let process = Process()
        let output = Pipe()
        let errors = Pipe()
        let port: Int

        init(dataDirectory: String, port: Int) throws {
            self.port = port
            process.executableURL = ServeBinaryTests.binary
            process.arguments = ["serve", "--data-dir", dataDirectory, "--port", String(port)]
            process.standardOutput = output
            process.standardError = errors
            try process.run()
        }

        /// Waits until `/healthz` answers.
        func waitUntilHealthy() async throws {
            for _ in 0..<300 {
                if let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!),
                    (response as? HTTPURLResponse)?.statusCode == 200
                {
                    return
                }
                guard process.isRunning else { throw ServerExited(errors: String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)) }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw ServerExited(errors: "not healthy after 30 s")
        }

        /// Sends SIGTERM and returns the exit status and everything printed.
        func terminate() -> (status: Int32, stdout: String, stderr: String) {
            process.terminate()
            let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, stdout, stderr)
        }
    }

    struct ServerExited: Error, CustomStringConvertible {
        let errors: String
        var description: String { "cx-server exited: \(errors)" }
    }

    static func freePort() -> Int {
        20_000 + Int.random(in: 0..<20_000)
    }

    @Test func firstStartShutdownAndRestart() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build cx-server first (swift build)")
        let directory = "/tmp/cx-serve-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let dataDirectory = directory + "/data"

        let first = try RunningServer(dataDirectory: dataDirectory, port: Self.freePort())
        try await first.waitUntilHealthy()
        // Admin commands reach the running cluster through its socket.
        let add = Process()
        add.executableURL = Self.binary
        add.arguments = ["user", "add", "alice", "--territory", "north", "--data-dir", dataDirectory]
        add.standardError = FileHandle.nullDevice
        try add.run()
        add.waitUntilExit()
        #expect(add.terminationStatus == 0)
        let stopped = first.terminate()
        #expect(stopped.status == 0, "graceful shutdown exits 0: \(stopped.stderr)")
        let token = stopped.stdout.firstMatch(of: /cx_[0-9a-f]{52}/).map { String($0.output) }
        #expect(token != nil, "first start prints the admin token")
        #expect(stopped.stdout.contains("cx init --server http://127.0.0.1:\(first.port) --token"))
        #expect(stopped.stderr.contains("PostgreSQL stopped"))
        #expect(!FileManager.default.fileExists(atPath: dataDirectory + "/pgdata/postmaster.pid"), "the cluster was stopped")

        let second = try RunningServer(dataDirectory: dataDirectory, port: Self.freePort())
        try await second.waitUntilHealthy()
        let (body, response) = try await URLSession.shared.data(for: {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(second.port)/v1/me")!)
            request.setValue("Bearer \(token ?? "")", forHTTPHeaderField: "Authorization")
            return request
        }())
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "the admin token survives a restart")
        #expect(String(decoding: body, as: UTF8.self).contains("\"user\":\"admin\""))
        let restarted = second.terminate()
        #expect(restarted.status == 0)
        #expect(restarted.stdout.firstMatch(of: /cx_[0-9a-f]{52}/) == nil, "no second admin token")
    }
}
