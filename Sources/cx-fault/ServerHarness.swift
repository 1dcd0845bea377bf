import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Failure to set up or drive the system under test (not an invariant violation).
struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One `cx-server serve` on a throwaway data directory with its embedded PostgreSQL, and the
/// faults that hit it: `kill -9` and restart, PostgreSQL fast-stopped and started again.
final class ServerHarness {
    let binary: String
    let dataDirectory: String
    let port: UInt16
    let shell: Shell
    private(set) var process: ChildProcess?
    /// The admin token printed at first start.
    private(set) var adminToken = ""
    /// How many times the suite killed or restarted things, for the report.
    private(set) var kills = 0
    private(set) var databaseStops = 0
    private var logIndex = 0
    private var scriptCounter = 0

    /// The cluster's directories inside the data directory (docs/server.md, "The embedded cluster").
    var clusterDirectory: String { dataDirectory + "/pgdata" }
    var socketDirectory: String { dataDirectory + "/socket" }
    var url: String { "http://127.0.0.1:\(port)" }

    init(binary: String, dataDirectory: String, port: UInt16, shell: Shell) {
        self.binary = binary
        self.dataDirectory = dataDirectory
        self.port = port
        self.shell = shell
    }

    /// Starts `serve` and waits until `/readyz` answers 200; on first start reads the admin token.
    func start() throws {
        logIndex += 1
        let log = "\(dataDirectory)-server-\(logIndex).log"
        guard
            let process = shell.spawn(
                binary, ["serve", "--data-dir", dataDirectory, "--port", "\(port)", "--rate-limit", "0"],
                logFile: log)
        else { throw HarnessError("cannot start \(binary)") }
        self.process = process
        Cleanup.started(dataDirectory: dataDirectory, pid: process.pid)
        guard waitReady(seconds: 90) else {
            let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? ""
            throw HarnessError("cx-server did not become ready on port \(port); log \(log):\n\(tail)")
        }
        if adminToken.isEmpty {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            guard let range = text.range(of: #"cx_[0-9a-f]{52}"#, options: .regularExpression) else {
                throw HarnessError("no admin token in the first start's output (\(log))")
            }
            adminToken = String(text[range])
        }
    }

    /// `kill -9` of the server process (the embedded PostgreSQL keeps running, as after a crash).
    func kill9() {
        guard let process else { return }
        process.signal(SIGKILL)
        process.wait()
        self.process = nil
        kills += 1
    }

    /// Graceful stop (SIGTERM), then the cluster is stopped if it still runs.
    func stop() {
        if let process, process.isRunning {
            process.signal(SIGTERM)
            if process.wait(timeout: 30) == nil {
                process.signal(SIGKILL)
                process.wait()
            }
        }
        process = nil
        _ = pgCtl(["-D", clusterDirectory, "-m", "immediate", "-w", "-t", "30", "stop"])
        Cleanup.stopped(dataDirectory: dataDirectory)
    }

    var isRunning: Bool { process?.isRunning == true }

    /// `pg_ctl stop -m fast` under the running server.
    @discardableResult
    func stopDatabase() -> CommandResult {
        databaseStops += 1
        return pgCtl(["-D", clusterDirectory, "-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// Starts the cluster again with the settings `cx-server` uses (Sources/Postgres/EmbeddedPostgres.swift).
    @discardableResult
    func startDatabase() -> CommandResult {
        let settings = [
            "-c listen_addresses=''", "-c unix_socket_directories=\(socketDirectory)",
            "-c unix_socket_permissions=0700", "-c port=5432", "-c max_connections=100",
        ].joined(separator: " ")
        return pgCtl(["-D", clusterDirectory, "-l", dataDirectory + "/postgres.log", "-w", "-t", "60", "-o", settings, "start"])
    }

    /// Runs `pg_ctl` as the cluster's owner (`postgres` when the suite runs as root).
    private func pgCtl(_ arguments: [String]) -> CommandResult {
        let pgCtl = Shell.which("pg_ctl") ?? ServerHarness.newestPostgresBinary("pg_ctl") ?? "pg_ctl"
        if getuid() == 0 {
            return shell.run("/usr/sbin/runuser", ["-u", "postgres", "--", pgCtl] + arguments)
        }
        return shell.run(pgCtl, arguments)
    }

    /// Polls `/readyz` until it answers 200.
    func waitReady(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if process?.isRunning == false { return false }
            if ServerHarness.httpStatus(port: port, path: "/readyz") == 200 { return true }
            usleep(200_000)
        }
        return false
    }

    /// An admin subcommand (`user add`, `token issue`) against the running server's database.
    func admin(_ arguments: [String]) throws -> String {
        let result = shell.run(binary, arguments + ["--data-dir", dataDirectory])
        guard result.succeeded else { throw HarnessError("setup failed: \(result.summary)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs SQL through `psql` on the embedded socket; rows as arrays of fields (unaligned, tab-separated).
    func query(_ sql: String) throws -> [[String]] {
        let psql = Shell.which("psql") ?? ServerHarness.newestPostgresBinary("psql") ?? "psql"
        let result = shell.run(
            psql, ["-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "host=\(socketDirectory) dbname=cx user=cx", "-c", sql])
        guard result.succeeded else { throw HarnessError("psql failed: \(result.summary)") }
        return result.stdout.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Runs an SQL script through `psql` on the embedded socket as the login role `role`, the way
    /// a member of the central team would (trust authentication on the socket: the cluster's
    /// owner and root only reach it). `variables` are psql variables, used in the script as
    /// `:'name'` (quoted by psql as literals). Errors name their SQLSTATE (`VERBOSITY=verbose`).
    func psql(as role: String, _ script: String, variables: [(String, String)] = []) -> CommandResult {
        scriptCounter += 1
        let file = "\(dataDirectory)-sql-\(scriptCounter).sql"
        defer { try? FileManager.default.removeItem(atPath: file) }
        do {
            try script.write(toFile: file, atomically: true, encoding: .utf8)
        } catch {
            return CommandResult(commandLine: "psql -f \(file)", exitCode: 127, stdout: "", stderr: "cannot write \(file): \(error)", killed: false)
        }
        let psql = Shell.which("psql") ?? ServerHarness.newestPostgresBinary("psql") ?? "psql"
        let options = ["-X", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose"]
            + variables.flatMap { ["-v", "\($0.0)=\($0.1)"] }
        return shell.run(psql, options + ["host=\(socketDirectory) dbname=cx user=\(role)", "-f", file], timeout: 120)
    }

    static func newestPostgresBinary(_ name: String) -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        return versions.last.map { "\(root)/\($0)/bin/\(name)" }
    }

    /// A minimal HTTP GET; the status code, or nil if nothing answered.
    static func httpStatus(port: UInt16, path: String) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
        else { return nil }
        guard let answer = SocketReader(fd: fd).readHTTPMessage(isRequest: false) else { return nil }
        return answer.status
    }
}
