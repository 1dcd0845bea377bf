import CXPostgres
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program to completion with `posix_spawn` and `waitpid`, capturing its output.
///
/// Not Foundation's `Process`: on Linux it learns that a child exited when a socket it hands to the
/// child is closed, and `pg_ctl start` leaves the server running with every inherited descriptor,
/// so `waitUntilExit()` never returns. Here the child gets only stdin (`/dev/null`) and one output
/// file; every other descriptor is closed before `exec`, so the server cannot hold anything of ours.
enum ChildProcess {
    /// How a run ended.
    struct Outcome {
        /// The exit status, or `nil` if the program was killed by a signal.
        let exitStatus: Int32?
        /// stdout and stderr, interleaved.
        let output: String

        var succeeded: Bool { exitStatus == 0 }
    }

    /// Runs `executable` with `arguments` in `workingDirectory` and waits for it to exit.
    /// - Throws: ``PostgresError/Code/clusterFailed`` if it could not be started.
    static func run(
        _ executable: String,
        _ arguments: [String],
        workingDirectory: String,
        outputFile: String
    ) throws(PostgresError) -> Outcome {
        let output = open(outputFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else {
            throw PostgresError(.clusterFailed, "could not create \(outputFile): \(EmbeddedPostgres.errnoText())")
        }
        defer { unlink(outputFile) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        #if os(Linux)
        guard let closeFrom = GlibcSpawnExtensions.addCloseFrom else {
            throw PostgresError(
                .clusterFailed,
                "this C library lacks posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or newer is needed)"
            )
        }
        _ = closeFrom(&actions, 3)
        if let changeDirectory = GlibcSpawnExtensions.addChangeDirectory {
            _ = changeDirectory(&actions, workingDirectory)
        }
        #endif

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        #if canImport(Darwin)
        // Darwin's equivalent of closefrom: only the descriptors set up above survive exec.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_CLOEXEC_DEFAULT))
        #endif

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }

        var pid = pid_t()
        let spawnResult = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(output)
        guard spawnResult == 0 else {
            throw PostgresError(
                .clusterFailed,
                "could not run \(executable): \(String(cString: strerror(spawnResult)))"
            )
        }

        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else {
                throw PostgresError(.clusterFailed, "could not wait for \(executable): \(EmbeddedPostgres.errnoText())")
            }
        }
        let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS are C macros that Swift does not import.
        let exited = status & 0x7f == 0
        return Outcome(exitStatus: exited ? (status >> 8) & 0xff : nil, output: text)
    }
}

#if os(Linux)
/// glibc's non-portable `posix_spawn` file actions, looked up at run time because Swift's Glibc
/// module imports `<spawn.h>` without `_GNU_SOURCE`, which hides their declarations.
private enum GlibcSpawnExtensions {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+): close every descriptor from N on.
    static let addCloseFrom: CloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+): change directory in the child.
    static let addChangeDirectory: ChangeDirectory? = symbol("posix_spawn_file_actions_addchdir_np")

    private static func symbol<T>(_ name: String) -> T? {
        // dlopen(NULL) is the running program and every library it loaded, libc included.
        guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else { return nil }
        return unsafeBitCast(pointer, to: T.self)
    }
}
#endif
