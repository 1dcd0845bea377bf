#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Named places where a test makes `cx` die at once, as `kill -9` would, to check that what it
/// leaves behind is consistent: with `CX_CRASH_AT=NAME` (or `NAME@N`, the N-th time the process
/// gets there) the process exits with status 137, without flushing or unlocking anything.
/// Unset in normal use, where ``reach(_:)`` costs one comparison.
///
/// The points: `journal-written` (a journal batch written, not yet fsync'd), `compaction-switch`
/// (a new generation written, `CURRENT` not yet switched), `sync-replied` (the server committed a
/// request; its reply not yet applied), `sync-page-applied` (a reply applied, the next request
/// not yet sent).
enum CrashPoint {
    /// The requested point and after how many passes to crash, read once.
    private static let target: (name: String, after: Int)? = {
        guard let raw = getenv("CX_CRASH_AT") else { return nil }
        let text = String(cString: raw)
        guard !text.isEmpty else { return nil }
        let parts = text.split(separator: "@", maxSplits: 1)
        return (String(parts[0]), parts.count == 2 ? Int(parts[1]) ?? 1 : 1)
    }()

    /// Passes through the named point so far. Safe without a lock: every point sits on the one
    /// sequential path of a command (a cache write under the cache lock, a step of the sync loop,
    /// which awaits each request before the next), so no two threads ever count at once.
    nonisolated(unsafe) private static var passes = 0

    /// Crashes here if the test asked for this point (and this pass).
    static func reach(_ name: String) {
        guard let target, target.name == name else { return }
        passes += 1
        if passes >= target.after { _exit(137) }
    }
}
