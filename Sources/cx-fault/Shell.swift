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
    /// Killed because it ran past the command timeout (a hang), not by a planned fault.
    var timedOut = false

    var succeeded: Bool { exitCode == 0 }

    /// One line for failure messages: the command, its status and the first line of stderr.
    var summary: String {
        let status = killed ? "killed" : exitCode.map { "exit \($0)" } ?? "signal"
        let firstError = stderr.split(separator: "\n").first.map(String.init) ?? ""
        return "`\(commandLine)` → \(status)\(firstError.isEmpty ? "" : ": \(firstError)")"
    }
}

/// A child process started with `posix_spawn`, reaped with `waitpid` (no Foundation `Process`:
/// its exit monitoring proved unreliable with `runuser` and killed children in this suite).
final class ChildProcess: Sendable {
    let pid: pid_t
    private let status = Mutex<Int32?>(nil)

    init(pid: pid_t) {
        self.pid = pid
    }

    /// The raw wait status once the child has exited (reaps it), nil while it runs.
    func poll() -> Int32? {
        status.withLock { status in
            if status != nil { return status }
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, WNOHANG)
            if reaped == pid {
                status = raw
            } else if reaped < 0 && errno == ECHILD {
                status = -1
            }
            return status
        }
    }

    var isRunning: Bool { poll() == nil }

    /// Waits until the child exits; its raw wait status.
    @discardableResult
    func wait(timeout: Double = .infinity) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = poll() { return status }
            usleep(2_000)
        }
        return poll()
    }

    func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// The exit code of a normal exit; nil for death by a signal.
    static func exitCode(_ raw: Int32) -> Int32? {
        raw & 0x7f == 0 ? (raw >> 8) & 0xff : nil
    }
}

/// Runs child processes with their output captured in files (no pipe can fill up and block a
/// child, and a killed child leaves whatever it had written).
struct Shell: Sendable {
    /// Where captured output goes; one pair of files per command, removed after reading.
    let scratch: String

    /// Runs `executable arguments` to completion (or until `killAfter` seconds, then SIGKILL;
    /// `timeout` seconds at most in any case).
    func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        killAfter: Double? = nil, timeout: Double = 180
    ) -> CommandResult {
        let commandLine = Shell.quote([executable] + arguments)
        let n = Shell.counter.next()
        let out = "\(scratch)/out-\(n)", err = "\(scratch)/err-\(n)"
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        guard let child = Shell.spawn(executable, arguments, environment: env, stdout: out, stderr: err) else {
            return CommandResult(
                commandLine: commandLine, exitCode: 127, stdout: "", stderr: "cannot start \(executable)", killed: false)
        }
        var killed = false
        var raw = child.wait(timeout: killAfter ?? timeout)
        if raw == nil {
            // The whole process group: a wrapper (`faketime`) and the `cx` it started.
            kill(-child.pid, SIGKILL)
            kill(child.pid, SIGKILL)
            killed = true
            raw = child.wait()
        }
        return CommandResult(
            commandLine: commandLine, exitCode: killed ? nil : raw.flatMap(ChildProcess.exitCode),
            stdout: Shell.readAndRemove(out), stderr: Shell.readAndRemove(err), killed: killed,
            timedOut: killed && killAfter == nil)
    }

    /// Starts a long-running process (the server) with stdout and stderr appended to `logFile`.
    func spawn(_ executable: String, _ arguments: [String], logFile: String) -> ChildProcess? {
        Shell.spawn(executable, arguments, environment: ProcessInfo.processInfo.environment, stdout: logFile, stderr: logFile)
    }

    private static let counter = Counter()

    /// `posix_spawn` with stdin from /dev/null and stdout/stderr appended to files.
    static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String], stdout: String, stderr: String
    ) -> ChildProcess? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if stderr == stdout {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // Each child leads its own process group, so a kill reaches whatever it started.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        return spawned == 0 ? ChildProcess(pid: pid) : nil
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
