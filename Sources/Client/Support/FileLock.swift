#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory lock on a lock file (`flock`), held until ``release()`` or deinit.
///
/// Readers take it shared, writers exclusive, so two `cx` processes on one home serialise.
final class FileLock {
    private let file: FileHandle

    init(path: String, exclusive: Bool) throws(IOError) {
        file = try FileHandle.openCreatingDurably(path, .readWrite)
        while flock(file.fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            if errno == EINTR { continue }
            throw IOError(path: path, operation: "lock", errno: errno)
        }
    }

    private init(file: FileHandle) {
        self.file = file
    }

    /// Takes the lock on `path` without blocking the thread, retrying until `timeout` seconds
    /// have passed; `nil` when another process still holds it then.
    ///
    /// - Parameters:
    ///   - path: The lock file, created (durably) when missing.
    ///   - exclusive: Exclusive (writers) or shared (readers).
    ///   - timeout: How long to wait at most, in seconds (0: one attempt).
    static func acquire(path: String, exclusive: Bool, timeout: Double) async throws -> FileLock? {
        let file = try FileHandle.openCreatingDurably(path, .readWrite)
        let deadline = POSIX.monotonicNanoseconds() + UInt64(Swift.max(0, timeout) * 1_000_000_000)
        while flock(file.fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else { throw IOError(path: path, operation: "lock", errno: code) }
            if POSIX.monotonicNanoseconds() >= deadline { return nil }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return FileLock(file: file)
    }

    func release() {
        flock(file.fd, LOCK_UN)
        file.close()
    }

    deinit { release() }
}

