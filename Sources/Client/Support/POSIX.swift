#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the system calls the cache needs: positioned reads, full writes,
/// `fsync`, atomic replacement and `flock`.
enum POSIX {
    static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    static var errnoValue: Int32 { errno }

    /// Whether a file or directory exists at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Creates `path` and its parents (mode 0700 for new directories: the cache holds
    /// customer data).
    static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws(IOError) {
        if exists(path) { return }
        let parent = parentDirectory(path)
        if parent != path, !parent.isEmpty { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 {
            if errno == EEXIST { return }
            throw IOError(path: path, operation: "create directory", errno: errno)
        }
        // The new entry must survive a power loss like the files later written inside it.
        try syncDirectory(parent.isEmpty ? "." : parent)
    }

    static func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// Makes the directory entry changes in `path` durable.
    static func syncDirectory(_ path: String) throws(IOError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw IOError(path: path, operation: "open directory", errno: errno) }
        defer { close(fd) }
        if fullSync(fd) != 0 { throw IOError(path: path, operation: "fsync directory", errno: errno) }
    }

    /// Flushes `fd` to stable storage; returns 0 or -1 with `errno` set, like `fsync`.
    ///
    /// On Darwin `fsync` only hands the data to the drive, which may keep it in its volatile
    /// cache: `fcntl(F_FULLFSYNC)` asks the drive to flush. Some file systems (and directory
    /// descriptors on some of them) refuse it; then plain `fsync` is the best available.
    static func fullSync(_ fd: Int32) -> Int32 {
        #if canImport(Darwin)
        if fcntl(fd, F_FULLFSYNC) == 0 { return 0 }
        #endif
        while true {
            let result = fsync(fd)
            if result == 0 || errno != EINTR { return result }
        }
    }

    /// Replaces `path` atomically with `bytes`: temp file, fsync, rename, fsync of the
    /// directory. A crash at any instant leaves either the old or the new content.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(IOError) {
        let temporary = path + ".tmp-\(getpid())"
        let file = try FileHandle.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        if fchmod(file.fd, mode) != 0 { throw IOError(path: temporary, operation: "chmod", errno: errno) }
        try file.writeAll(bytes)
        try file.sync()
        file.close()
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw IOError(path: path, operation: "replace", errno: code)
        }
        try syncDirectory(parentDirectory(path))
    }

    /// The whole content of `path`, or `nil` when it does not exist.
    static func readFile(_ path: String) throws(IOError) -> [UInt8]? {
        guard let file = try FileHandle.openIfExists(path, flags: O_RDONLY) else { return nil }
        return try file.readAll()
    }

    /// Makes `target` a second name of the file `source` (compaction links unchanged files).
    static func hardLink(_ source: String, to target: String) throws(IOError) {
        if link(source, target) != 0 { throw IOError(path: target, operation: "link", errno: errno) }
    }

    /// Removes a directory tree (best effort; used for stale cache generations).
    static func removeTree(_ path: String) {
        guard let dir = opendir(path) else {
            unlink(path)
            return
        }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        for name in names {
            let child = path + "/" + name
            var info = stat()
            if lstat(child, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                removeTree(child)
            } else {
                unlink(child)
            }
        }
        rmdir(path)
    }

    /// The names in directory `path` (empty when it does not exist).
    static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether file descriptor `fd` is a terminal.
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// `write(2)` for callers inside types whose own `write` shadows the C function.
    static func writeSome(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        write(fd, bytes, count)
    }

    /// The process environment block (`environ`; Darwin reaches it through `_NSGetEnviron`).
    static var environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        #if canImport(Darwin)
        return _NSGetEnviron().pointee!
        #elseif canImport(Glibc) || canImport(Musl)
        return environ
        #endif
    }

    /// Writes `text` to stderr unbuffered.
    static func writeStderr(_ text: String) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { if errno == EINTR { continue } else { return } }
                offset += written
            }
        }
    }

    /// The machine's host name, up to the first dot.
    static func shortHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "cx" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(name.split(separator: ".").first ?? "cx")
    }

    /// Today's date in the machine's time zone.
    static func localToday() -> (year: Int, month: Int, day: Int) {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return (Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
    }

    /// A local "YYYY-MM-DD HH:MM" rendering of milliseconds since the epoch.
    static func localDateTime(millisecondsSinceEpoch ms: Int64) -> String {
        var seconds = time_t(ms / 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        func pad(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday)) \(pad(parts.tm_hour)):\(pad(parts.tm_min))"
    }

    /// A monotonic clock in nanoseconds.
    static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
