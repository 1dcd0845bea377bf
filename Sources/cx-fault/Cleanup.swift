import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Stops what the suite started when it is interrupted (Ctrl-C, `timeout`, CI cancelling):
/// servers are killed and their embedded clusters stopped, so no PostgreSQL is left running.
enum Cleanup {
    /// Running servers: data directory → server pid (the cluster is in DIR/pgdata).
    private static let running = Locked<[String: Int32]>([:])

    /// Handles SIGINT and SIGTERM from now on.
    static func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                stopEverything()
                FileHandle.standardError.write(Data("cx-fault: interrupted; servers and clusters stopped\n".utf8))
                exit(130)
            }
            source.resume()
            _ = Unmanaged.passRetained(source as AnyObject)  // kept for the life of the process
        }
    }

    /// A server started on `dataDirectory` with process id `pid`.
    static func started(dataDirectory: String, pid: Int32) {
        running.withLock { $0[dataDirectory] = pid }
    }

    /// That server is stopped (its cluster too).
    static func stopped(dataDirectory: String) {
        running.withLock { $0[dataDirectory] = nil }
    }

    private static func stopEverything() {
        let servers = running.withLock { $0 }
        for (dataDirectory, pid) in servers {
            kill(pid, SIGKILL)
            let pgCtl = Shell.which("pg_ctl") ?? ServerHarness.newestPostgresBinary("pg_ctl") ?? "pg_ctl"
            let arguments = ["-D", dataDirectory + "/pgdata", "-m", "immediate", "-w", "-t", "30", "stop"]
            let (program, words) = getuid() == 0
                ? ("/usr/sbin/runuser", ["-u", "postgres", "--", pgCtl] + arguments) : (pgCtl, arguments)
            Shell.spawn(program, words, environment: ProcessInfo.processInfo.environment,
                        stdout: "/dev/null", stderr: "/dev/null")?.wait(timeout: 40)
        }
    }
}
