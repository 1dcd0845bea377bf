import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension POSIX {
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

    /// The directory part of `path` (`.` for a bare name, `/` for a top-level entry).
    static func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// Makes the directory entry changes in `path` durable.
    static func syncDirectory(_ path: String) throws(IOError) {
        let directory: FileDescriptor
        do {
            directory = try FileDescriptor.open(FilePath(path), .readOnly, options: [.directory, .closeOnExec])
        } catch {
            throw IOError(path: path, operation: "open directory", error: error)
        }
        defer { try? directory.close() }
        if fullSync(directory.rawValue) != 0 { throw IOError(path: path, operation: "fsync directory", errno: errno) }
    }

    /// Flushes `fd` to stable storage; returns 0 or -1 with `errno` set, like `fsync`.
    ///
    /// On Darwin `fsync` only hands the data to the drive, which may keep it in its volatile
    /// cache: `fcntl(F_FULLFSYNC)` asks the drive to flush. Some file systems (and directory
    /// descriptors on some of them) refuse it; then plain `fsync` is the best available.
    static func fullSync(_ fd: Int32) -> Int32 {
        #if canImport(Darwin) || CX_TYPECHECK_DARWIN
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
        let file = try FileHandle.open(
            temporary, .writeOnly, options: [.create, .truncate], permissions: FilePermissions(rawValue: mode))
        // The umask may have narrowed the mode the file was created with.
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
        guard let file = try FileHandle.openIfExists(path) else { return nil }
        return try file.readAll()
    }

    /// Renames `source` to `target`, replacing it atomically.
    static func move(_ source: String, to target: String) throws(IOError) {
        guard rename(source, target) == 0 else { throw IOError(path: target, operation: "replace", errno: errno) }
    }

    /// Makes `target` a second name of the file `source` (compaction links unchanged files).
    static func hardLink(_ source: String, to target: String) throws(IOError) {
        if link(source, target) != 0 { throw IOError(path: target, operation: "link", errno: errno) }
    }

    /// Creates an empty file at `path` if there is none and makes its name durable. No
    /// temporary file: an empty file has no content to tear, and cache directories are swept
    /// of `.tmp-` files by every writer that opens them.
    static func createEmptyFile(_ path: String, mode: mode_t = 0o644) throws(IOError) {
        let file = try FileHandle.open(path, .writeOnly, options: [.create], permissions: FilePermissions(rawValue: mode))
        file.close()
        try syncDirectory(parentDirectory(path))
    }

    /// Removes the file at `path` (best effort: a missing file is no error).
    static func removeFile(_ path: String) {
        unlink(path)
    }

    /// Removes a directory tree (best effort; used for stale cache generations). A `path`
    /// that is not a directory is unlinked.
    static func removeTree(_ path: String) {
        guard let names = entries(of: path) else {
            unlink(path)
            return
        }
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
        entries(of: path) ?? []
    }

    /// The names in directory `path` but `.` and `..`; `nil` when it cannot be opened.
    private static func entries(of path: String) -> [String]? {
        guard let dir = opendir(path) else { return nil }
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
}
