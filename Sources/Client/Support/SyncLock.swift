/// One network exchange with the server per home at a time: `cache/sync.lock`.
///
/// `cx sync` holds it for its whole run and `cx forget` while it asks the server and drops.
/// Two syncs sharing one cursor could each skip ranges the other advanced past (during a
/// rescope, dropping records the other received). It is a separate file from `cache/lock`,
/// which ``SyncEngine`` takes and releases between round trips so that edits proceed while a
/// sync runs.
enum SyncLock {
    /// The default bound on waiting for another sync, in seconds.
    static let defaultWait: Double = 30

    /// The lock file in `cacheDirectory`.
    static func path(in cacheDirectory: String) -> String {
        cacheDirectory + "/sync.lock"
    }

    /// Takes the sync lock of the cache in `cacheDirectory`, waiting at most `wait` seconds.
    ///
    /// - Parameters:
    ///   - cacheDirectory: The cache directory (created when missing).
    ///   - wait: How long to wait for another `cx sync` or `cx forget` to finish, in seconds.
    ///   - command: The command asking, for the message (`cx sync`).
    /// - Returns: The held lock; release it (or let it go) when the command is done.
    /// - Throws: ``CXError`` with code ``CXError/Code/busy`` (75) when the lock is still held after `wait`.
    static func acquire(cacheDirectory: String, wait: Double, command: String) async throws -> FileLock {
        try POSIX.makeDirectories(cacheDirectory)
        let path = path(in: cacheDirectory)
        guard let lock = try await FileLock.acquire(path: path, exclusive: true, timeout: wait) else {
            let seconds = wait == wait.rounded() ? String(Int(wait)) : String(wait)
            throw CXError(
                .busy,
                "\(command) did not start: another cx sync (or cx forget) on this home has been running for the \(seconds) s it waited",
                hint: "Nothing was changed. Run it again later, or wait longer with --wait SECONDS.")
        }
        return lock
    }
}
