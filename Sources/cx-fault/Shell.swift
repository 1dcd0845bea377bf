import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What a finished (or killed) child process left behind.
struct CommandResult: Sendable {
    /// The command line, for messages.
    var commandLine: String
    /// Exit status; `nil` when the suite killed the process (SIGKILL) or it died of a signal.
    var exitCode: Int32?
    var stdout: String
    var stderr: String
    /// True when the suite sent SIGKILL before the process finished on its own.
    var killed: Bool

    var succeeded: Bool { exitCode == 0 }

    /// One line for failure messages: the command, its status and the first line of stderr.
    var summary: String {
        let status = killed ? "killed" : exitCode.map { "exit \($0)" } ?? "signal"
        let firstError = stderr.split(separator: "\n").first.map(String.init) ?? ""
        return "`\(commandLine)` → \(status)\(firstError.isEmpty ? "" : ": \(firstError)")"
    }
}

/// Runs child processes with their output captured in files (no pipe can fill up and block a
/// child, and a killed child leaves whatever it had written).
struct Shell: Sendable {
    /// Where captured output goes; one pair of files per command, removed after reading.
    let scratch: String

    /// Runs `executable arguments` to completion (or until `killAfter` seconds, then SIGKILL).
    /// `environment` entries are added to the suite's own environment.
    func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        killAfter: Double? = nil, timeout: Double = 120
    ) -> CommandResult {
        let process = launch(executable, arguments, environment: environment)
        guard let (process, out, err) = process else {
            return CommandResult(
                commandLine: Shell.quote([executable] + arguments), exitCode: 127, stdout: "",
                stderr: "cannot start \(executable)", killed: false)
        }
        var killed = false
        let deadline = Date().addingTimeInterval(killAfter ?? timeout)
        while process.isRunning && Date() < deadline {
            usleep(2_000)
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            killed = true
        }
        process.waitUntilExit()
        let code: Int32? = process.terminationReason == .exit ? process.terminationStatus : nil
        return CommandResult(
            commandLine: Shell.quote([executable] + arguments), exitCode: killed ? nil : code,
            stdout: Shell.readAndRemove(out), stderr: Shell.readAndRemove(err), killed: killed)
    }

    /// Starts a long-running process (the server) with stdout and stderr appended to `logFile`.
    func spawn(_ executable: String, _ arguments: [String], logFile: String) -> Process? {
        FileManager.default.createFile(atPath: logFile, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logFile) else { return nil }
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        return process
    }

    private static let counter = Counter()

    private func launch(
        _ executable: String, _ arguments: [String], environment: [String: String]
    ) -> (Process, String, String)? {
        let n = Shell.counter.next()
        let out = "\(scratch)/out-\(n)", err = "\(scratch)/err-\(n)"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        guard let outHandle = FileHandle(forWritingAtPath: out),
            let errHandle = FileHandle(forWritingAtPath: err)
        else { return nil }
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        return (process, out, err)
    }

    private static func readAndRemove(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: path)
        return text
    }

    /// A shell-quoted command line, for reproduction hints.
    static func quote(_ words: [String]) -> String {
        words.map { word in
            word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:+@,".contains($0) }
                ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }

    /// The first executable called `name` on PATH.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// A process-wide counter for unique scratch file names.
final class Counter: Sendable {
    private let value = Mutex(0)

    func next() -> Int {
        value.withLock { value in
            value += 1
            return value
        }
    }
}

/// A value shared between threads behind a `Mutex` (a class, so closures can capture it).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { value in body(&value) }
    }
}
