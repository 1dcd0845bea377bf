#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few system calls `cx` makes outside ``FileHandle`` (which wraps swift-system's
/// `FileDescriptor`), by concern: the file system and durability (`POSIX+FileSystem.swift`),
/// the process and its terminal (`POSIX+Process.swift`), clocks and local time
/// (`POSIX+Time.swift`). Each branches on the platform where Linux and Darwin differ
/// (`F_FULLFSYNC`, `environ`), so `cx` builds on both (`scripts/check-portability`).
enum POSIX {
    /// The text of an `errno` value.
    static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// The calling thread's `errno`.
    static var errnoValue: Int32 { errno }
}
