import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Locates the `cx` and `cx-server` binaries built next to this test bundle.
enum Binaries {
    static let directory: String = {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["CX_BIN_DIR"] { candidates.append(explicit) }
        // The test runner lives in the same `debug` (or `release`) folder as the products.
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = runner.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.path)
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(Bundle.main.bundleURL.path)
        // From the source tree: <package>/Tests/EndToEndTests/Harness.swift → <package>/.build*/debug.
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for scratch in [".build-client", ".build"] { candidates.append(package.path + "/" + scratch + "/debug") }
        for candidate in candidates
        where FileManager.default.isExecutableFile(atPath: candidate + "/cx") && FileManager.default.isExecutableFile(atPath: candidate + "/cx-server") {
            return candidate
        }
        return ""
    }()

    static func path(_ name: String) throws -> String {
        guard !directory.isEmpty else {
            throw HarnessError("cannot find the `cx` and `cx-server` binaries next to the test runner (\(CommandLine.arguments[0])); build them first with `swift build --scratch-path …` or set CX_BIN_DIR")
        }
        if let stale = staleSource {
            throw HarnessError("the binaries in \(directory) are older than \(stale): tests would run yesterday's code; run `swift build --build-tests` first")
        }
        return directory + "/" + name
    }

    /// The source folders each binary is built from (its target and the targets it depends on).
    static let sourcesOfBinary: [String: [String]] = [
        "cx": ["cx", "Client", "Model", "CivilCalendar"],
        "cx-server": ["cx-server", "Server", "Model", "CivilCalendar", "Postgres", "EmbeddedPostgres", "CLibPQ"],
    ]

    /// A source file newer than the binary built from it, if any (checked once): the end-to-end
    /// tests must run the code under test, not an earlier build of it. (A binary that does not
    /// depend on a changed file is not relinked, so each is compared with its own sources.)
    static let staleSource: String? = {
        let files = FileManager.default
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        func modified(_ path: String) -> Date? { (try? files.attributesOfItem(atPath: path))?[.modificationDate] as? Date }
        let sources = package.appendingPathComponent("Sources").path
        for (binary, folders) in sourcesOfBinary.sorted(by: { $0.key < $1.key }) {
            guard let built = modified(directory + "/" + binary) else { continue }
            for folder in folders {
                guard let walker = files.enumerator(atPath: sources + "/" + folder) else { continue }
                for case let relative as String in walker where relative.hasSuffix(".swift") {
                    let path = sources + "/" + folder + "/" + relative
                    if let changed = modified(path), changed > built { return "Sources/\(folder)/\(relative) (used by \(binary))" }
                }
            }
        }
        return nil
    }()
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The result of one process run.
struct Run: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
    var trimmed: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
    }
}

/// Runs a process to completion with its output in temporary files (no pipe deadlocks).
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Run {
    let dir = NSTemporaryDirectory() + "cx-e2e-run-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    _ = FileManager.default.createFile(atPath: dir + "/out", contents: nil)
    _ = FileManager.default.createFile(atPath: dir + "/err", contents: nil)
    let out = FileHandle(forWritingAtPath: dir + "/out")!
    let err = FileHandle(forWritingAtPath: dir + "/err")!
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "NO_COLOR": "1", "HOME": NSTemporaryDirectory(), "LANG": "C.UTF-8"]
    env.merge(environment) { $1 }
    process.environment = env
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    return Run(
        status: process.terminationStatus,
        stdout: (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? "")
}

/// A `cx` home directory under /tmp.
final class Home: Sendable {
    let path: String

    init() {
        path = "/tmp/cx-e2e-home-" + UUID().uuidString.lowercased().prefix(8)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A copy of `other`'s directory, as `cp -a` makes it (a restored backup, a second laptop).
    init(copying other: Home) throws {
        path = "/tmp/cx-e2e-home-" + UUID().uuidString.lowercased().prefix(8)
        let run = try runProcess("/bin/cp", ["-a", other.path, path])
        guard run.status == 0 else { throw HarnessError("cp -a failed: \(run)") }
    }

    /// Replaces this directory with a copy of `backup` (restoring a backup over a live home).
    func restore(from backup: Home) throws {
        try FileManager.default.removeItem(atPath: path)
        let run = try runProcess("/bin/cp", ["-a", backup.path, path])
        guard run.status == 0 else { throw HarnessError("cp -a failed: \(run)") }
    }

    /// Writes `backup`'s files over this directory's in place, keeping every existing file's
    /// identity (inode), as a VM snapshot or a block-level restore does.
    func restoreInPlace(from backup: Home) throws {
        let run = try runProcess("/bin/cp", ["-R", backup.path + "/.", path])
        guard run.status == 0 else { throw HarnessError("cp -R failed: \(run)") }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Runs `cx ARGS --home HOME`.
    @discardableResult
    func cx(_ arguments: String..., environment: [String: String] = [:]) throws -> Run {
        try cx(arguments, environment: environment)
    }

    @discardableResult
    func cx(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        try runProcess(try Binaries.path("cx"), arguments + ["--home", path], environment: environment)
    }

    /// Runs a command that must succeed and returns its trimmed stdout.
    func ok(_ arguments: String..., environment: [String: String] = [:]) throws -> String {
        let run = try cx(arguments, environment: environment)
        guard run.status == 0 else { throw HarnessError("cx \(arguments.joined(separator: " ")) failed: \(run)") }
        return run.trimmed
    }

    func showJSON(_ id: String) throws -> [String: Any] {
        let run = try cx("show", id, "--json")
        guard run.status == 0, let object = try run.json() as? [String: Any] else { throw HarnessError("show failed: \(run)") }
        return object
    }
}

/// Thread-safe text accumulator for a child's output.
final class OutputBuffer: @unchecked Sendable {
    // Safe: every access to `text` holds `lock`.
    private let lock = NSLock()
    private var text = ""

    func append(_ data: Data) {
        lock.lock()
        text += String(decoding: data, as: UTF8.self)
        lock.unlock()
    }

    var value: String {
        lock.lock()
        defer { lock.unlock() }
        return text
    }
}

/// A `cx-server serve` with its own embedded PostgreSQL in a fresh /tmp directory.
final class ServerProcess: @unchecked Sendable {
    // Safe: set up once in start(), then only read; stop() is called once by the owner.
    let dataDirectory: String
    let port: Int
    let adminToken: String
    private let process: Process
    let stdout: OutputBuffer
    let stderr: OutputBuffer

    var url: String { "http://127.0.0.1:\(port)" }

    private init(dataDirectory: String, port: Int, adminToken: String, process: Process, stdout: OutputBuffer, stderr: OutputBuffer) {
        self.dataDirectory = dataDirectory
        self.port = port
        self.adminToken = adminToken
        self.process = process
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Starts `cx-server serve` on a free port with a fresh embedded database; `extraArguments`
    /// go after the defaults (e.g. `--rate-limit`); `environment` adds to its environment
    /// (e.g. a `HOME` of its own).
    static func start(extraArguments: [String] = [], environment: [String: String] = [:]) async throws -> ServerProcess {
        try await start(dataDirectory: "/tmp/cx-e2e-server-" + UUID().uuidString.lowercased().prefix(8), port: try freePort(),
                        adminToken: nil, extraArguments: extraArguments, environment: environment)
    }

    /// Starts a second `cx-server serve` on the database of running `first` (through its
    /// embedded cluster's socket, as `--database-url`), on a port and scratch directory of its
    /// own: two instances behind one proxy. It shares `first`'s users and tokens.
    static func startSecondInstance(of first: ServerProcess, extraArguments: [String] = ["--log-format", "json"]) async throws -> ServerProcess {
        let url = "host=\(first.dataDirectory)/socket dbname=cx user=cx"
        return try await start(
            dataDirectory: "/tmp/cx-e2e-server-" + UUID().uuidString.lowercased().prefix(8), port: try freePort(),
            adminToken: first.adminToken, extraArguments: ["--database-url", url] + extraArguments)
    }

    /// Starts `cx-server serve` again on the data directory and port of a stopped server (whose
    /// data was kept), e.g. after restoring a backup of that directory.
    static func restart(_ stopped: ServerProcess) async throws -> ServerProcess {
        try await start(dataDirectory: stopped.dataDirectory, port: stopped.port, adminToken: stopped.adminToken, extraArguments: [])
    }

    private static func start(
        dataDirectory: String, port: Int, adminToken: String?, extraArguments: [String], environment: [String: String] = [:]
    ) async throws -> ServerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Binaries.path("cx-server"))
        process.arguments = ["serve", "--data-dir", dataDirectory, "--port", String(port)] + extraArguments
        process.environment = ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8"].merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        let stdout = OutputBuffer(), stderr = OutputBuffer()
        out.fileHandleForReading.readabilityHandler = { stdout.append($0.availableData) }
        err.fileHandleForReading.readabilityHandler = { stderr.append($0.availableData) }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(180)
        var token = adminToken
        while Date() < deadline {
            if token == nil, let range = stdout.value.range(of: "cx_[0-9a-f]{52}", options: .regularExpression) {
                token = String(stdout.value[range])
            }
            if token != nil, stderr.value.contains("cx-server listening") || stdout.value.contains("cx-server listening") {
                break
            }
            if !process.isRunning {
                throw HarnessError("cx-server exited early (\(process.terminationStatus)):\n\(stdout.value)\n\(stderr.value)")
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        guard let token else {
            process.terminate()
            throw HarnessError("cx-server did not start within 180 s:\n\(stdout.value)\n\(stderr.value)")
        }
        return ServerProcess(dataDirectory: dataDirectory, port: port, adminToken: token, process: process, stdout: stdout, stderr: stderr)
    }

    /// Adds a user and returns a new token for it. Admins see every territory, so tests of sync
    /// mechanics need not care about scope.
    func addUser(_ name: String, role: String = "admin", territories: [String] = []) throws -> String {
        let server = try Binaries.path("cx-server")
        let added = try runProcess(
            server, ["user", "add", name, "--role", role, "--data-dir", dataDirectory] + territories.flatMap { ["--territory", $0] })
        guard added.status == 0 else { throw HarnessError("user add failed: \(added)") }
        let issued = try runProcess(server, ["token", "issue", name, "--data-dir", dataDirectory])
        guard issued.status == 0, let range = issued.stdout.range(of: "cx_[0-9a-f]{52}", options: .regularExpression) else {
            throw HarnessError("token issue failed: \(issued)")
        }
        return String(issued.stdout[range])
    }

    /// Runs an admin command (`cx-server ARGUMENTS --data-dir DIR`) against the running server's database.
    func admin(_ arguments: String...) throws -> Run {
        try runProcess(try Binaries.path("cx-server"), arguments + ["--data-dir", dataDirectory])
    }

    /// Stops the server with SIGTERM and removes its data (unless `keepingData`).
    func stop(keepingData: Bool = false) {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning && Date() < deadline { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        if !keepingData { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw HarnessError("bind failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs `body` with a fresh server, stopped afterwards whatever happens.
func withServer(
    extraArguments: [String] = [], environment: [String: String] = [:], _ body: (ServerProcess) async throws -> Void
) async throws {
    let server = try await ServerProcess.start(extraArguments: extraArguments, environment: environment)
    do {
        try await body(server)
    } catch {
        server.stop()
        throw error
    }
    server.stop()
}

/// A home initialised against `server` with a token of its own user (by default an admin, who
/// sees every territory).
func makeHome(_ server: ServerProcess, user: String, role: String = "admin", territories: [String] = [], exactName: Bool = false) throws -> Home {
    let name = exactName ? user : user + "-" + UUID().uuidString.prefix(6).lowercased()
    let token = try server.addUser(name, role: role, territories: territories)
    let home = Home()
    let run = try home.cx("init", "--server", server.url, "--token", token)
    guard run.status == 0 else { throw HarnessError("init failed: \(run)") }
    return home
}
