#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
            let fd = systemOpen(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return FileHandle(fd: fd, path: path) }
            if errno == EINTR { continue }
            throw IOError(path: path, operation: flags & O_CREAT != 0 ? "create" : "open", errno: errno)
        }
    }

    /// Opens `path` like ``open(_:flags:mode:)`` and, when this call created the file, makes
    /// its directory entry durable (fsync of the parent directory): a file the cache relies on
    /// (journal, lock) must not vanish in a power loss after the command reported success.
    static func openCreatingDurably(_ path: String, flags: Int32, mode: mode_t = 0o600) throws(IOError) -> FileHandle {
        let existed = POSIX.exists(path)
        let file = try open(path, flags: flags | O_CREAT, mode: mode)
        if !existed { try POSIX.syncDirectory(POSIX.parentDirectory(path)) }
        return file
    }

    static func openIfExists(_ path: String, flags: Int32) throws(IOError) -> FileHandle? {
        while true {
            let fd = systemOpen(path, flags | O_CLOEXEC, 0)
            if fd >= 0 { return FileHandle(fd: fd, path: path) }
            if errno == EINTR { continue }
            if errno == ENOENT { return nil }
            throw IOError(path: path, operation: "open", errno: errno)
        }
    }

    func close() {
        if isOpen {
            systemClose(fd)
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

    /// Makes the file's content durable: ``POSIX/fullSync(_:)`` (`F_FULLFSYNC` on Darwin,
    /// where plain `fsync` stops at the drive's cache).
    func sync() throws(IOError) {
        if POSIX.fullSync(fd) != 0 { throw IOError(path: path, operation: "fsync", errno: errno) }
    }

    func truncate(to length: Int) throws(IOError) {
        if ftruncate(fd, off_t(length)) != 0 { throw IOError(path: path, operation: "truncate", errno: errno) }
    }
}


/// `open(2)`, reachable from inside ``FileHandle`` whose own `open` shadows the C function
/// (the module-qualified `Glibc.open` would not compile on Darwin).
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

/// `close(2)`, for the same reason as ``systemOpen(_:_:_:)``.
@discardableResult
private func systemClose(_ fd: Int32) -> Int32 {
    close(fd)
}
