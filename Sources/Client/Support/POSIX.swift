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
        if mkdir(path, mode) != 0, errno != EEXIST {
            throw IOError(path: path, operation: "create directory", errno: errno)
        }
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
        if fsync(fd) != 0 { throw IOError(path: path, operation: "fsync directory", errno: errno) }
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

/// An open file descriptor, closed on deinit.
///
/// Not `Sendable`: each command uses its handles from one task.
final class FileHandle {
    let fd: Int32
    let path: String
    private var isOpen = true

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close() }

    static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(IOError) -> FileHandle {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return FileHandle(fd: fd, path: path) }
            if errno == EINTR { continue }
            throw IOError(path: path, operation: flags & O_CREAT != 0 ? "create" : "open", errno: errno)
        }
    }

    static func openIfExists(_ path: String, flags: Int32) throws(IOError) -> FileHandle? {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC)
            if fd >= 0 { return FileHandle(fd: fd, path: path) }
            if errno == EINTR { continue }
            if errno == ENOENT { return nil }
            throw IOError(path: path, operation: "open", errno: errno)
        }
    }

    func close() {
        if isOpen {
            Glibc.close(fd)
            isOpen = false
        }
    }

    func size() throws(IOError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw IOError(path: path, operation: "stat", errno: errno) }
        return Int(info.st_size)
    }

    /// Reads exactly `count` bytes at `offset` (fewer only at the end of the file).
    func read(_ count: Int, at offset: Int) throws(IOError) -> [UInt8] {
        if count == 0 { return [] }
        var result = [UInt8](repeating: 0, count: count)
        var done = 0
        var failure: Int32 = 0
        result.withUnsafeMutableBytes { buffer in
            while done < count {
                let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { return }
                done += n
            }
        }
        if failure != 0 { throw IOError(path: path, operation: "read", errno: failure) }
        if done < count { result.removeLast(count - done) }
        return result
    }

    /// Reads into `buffer` at `offset`; returns the number of bytes read (0 at the end).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(IOError) -> Int {
        while true {
            let n = pread(fd, buffer.baseAddress!, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw IOError(path: path, operation: "read", errno: errno)
        }
    }

    func readAll() throws(IOError) -> [UInt8] {
        try read(try size(), at: 0)
    }

    /// Writes all of `bytes` at the current position (the end, for O_APPEND).
    func writeAll(_ bytes: some ContiguousCollection) throws(IOError) {
        var failure: Int32 = 0
        bytes.withBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                done += n
            }
        }
        if failure != 0 { throw IOError(path: path, operation: "write", errno: failure) }
    }

    func sync() throws(IOError) {
        if fsync(fd) != 0 { throw IOError(path: path, operation: "fsync", errno: errno) }
    }

    func truncate(to length: Int) throws(IOError) {
        if ftruncate(fd, off_t(length)) != 0 { throw IOError(path: path, operation: "truncate", errno: errno) }
    }
}

/// Byte buffers `FileHandle.writeAll` accepts.
protocol ContiguousCollection {
    func withBytes(_ body: (UnsafeRawBufferPointer) -> Void)
}

extension Array: ContiguousCollection where Element == UInt8 {
    func withBytes(_ body: (UnsafeRawBufferPointer) -> Void) { withUnsafeBytes(body) }
}

extension ArraySlice: ContiguousCollection where Element == UInt8 {
    func withBytes(_ body: (UnsafeRawBufferPointer) -> Void) { withUnsafeBytes(body) }
}

/// An advisory lock on a lock file (`flock`), held until ``release()`` or deinit.
///
/// Readers take it shared, writers exclusive, so two `cx` processes on one home serialise.
final class FileLock {
    private let file: FileHandle

    init(path: String, exclusive: Bool) throws(IOError) {
        file = try FileHandle.open(path, flags: O_RDWR | O_CREAT, mode: 0o600)
        while flock(file.fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            if errno == EINTR { continue }
            throw IOError(path: path, operation: "lock", errno: errno)
        }
    }

    func release() {
        flock(file.fd, LOCK_UN)
        file.close()
    }

    deinit { release() }
}

/// Appends to a file through a large buffer (used when writing snapshot files).
final class BufferedWriter {
    let file: FileHandle
    private var buffer: [UInt8] = []
    private let capacity: Int
    /// Bytes written so far (flushed or buffered).
    private(set) var offset = 0

    init(path: String, capacity: Int = 1 << 20) throws(IOError) {
        file = try FileHandle.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        self.capacity = capacity
        buffer.reserveCapacity(capacity)
    }

    func write(_ bytes: some Collection<UInt8>) throws(IOError) {
        buffer.append(contentsOf: bytes)
        offset += bytes.count
        if buffer.count >= capacity { try flush() }
    }

    func write(byte: UInt8) throws(IOError) {
        buffer.append(byte)
        offset += 1
        if buffer.count >= capacity { try flush() }
    }

    func flush() throws(IOError) {
        if buffer.isEmpty { return }
        try file.writeAll(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, fsyncs and closes.
    func finish() throws(IOError) {
        try flush()
        try file.sync()
        file.close()
    }
}

/// Reads a file line by line through a large buffer, without copying lines that fit the
/// buffer more than once.
final class LineReader {
    private let file: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var fileOffset = 0
    private var atEnd = false
    private let chunk: Int

    init(file: FileHandle, chunk: Int = 4 << 20) {
        self.file = file
        self.chunk = chunk
    }

    /// Calls `body` with each complete line (without its newline). A trailing line without a
    /// newline is ignored. Return `false` from `body` to stop.
    func forEachLine(_ body: (UnsafeBufferPointer<UInt8>) throws -> Bool) throws {
        while true {
            // Find lines in the buffered bytes.
            var stop = false
            try buffer.withUnsafeBufferPointer { all in
                var position = start
                while position < all.count {
                    guard let newline = Self.findNewline(all, from: position) else { break }
                    let line = UnsafeBufferPointer(rebasing: all[position..<newline])
                    position = newline + 1
                    if try !body(line) {
                        stop = true
                        break
                    }
                }
                start = position
            }
            if stop || atEnd { return }
            // Refill: keep the partial line, read the next chunk.
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            let previous = buffer.count
            let want = Swift.max(chunk, previous)
            buffer.append(contentsOf: repeatElement(0, count: want))
            let n = try buffer.withUnsafeMutableBytes { bytes throws(IOError) in
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[previous...]), at: fileOffset)
            }
            buffer.removeLast(want - n)
            fileOffset += n
            if n == 0 { atEnd = true }
        }
    }

    static func findNewline(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard from < bytes.count else { return nil }
        guard let found = memchr(bytes.baseAddress! + from, 0x0A, bytes.count - from) else { return nil }
        return bytes.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }
}
