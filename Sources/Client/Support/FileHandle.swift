import SystemPackage

/// An open file, closed on deinit: a swift-system `FileDescriptor` (which retries on `EINTR`
/// and reports `Errno`) with its path kept for messages; failures are ``IOError``s naming the
/// path and the operation.
///
/// Not `Sendable`: each command uses its handles from one task.
final class FileHandle {
    let descriptor: FileDescriptor
    let path: String
    private var isOpen = true

    private init(descriptor: FileDescriptor, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close() }

    /// The raw descriptor, for the calls swift-system does not wrap (`flock`, `fsync`).
    var fd: Int32 { descriptor.rawValue }

    /// Opens `path` (close-on-exec).
    ///
    /// - Parameters:
    ///   - access: read, write or both.
    ///   - options: `.create`, `.truncate`, `.append`, …
    ///   - permissions: the mode of a file this call creates.
    static func open(
        _ path: String, _ access: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]
    ) throws(IOError) -> FileHandle {
        let creates = options.contains(.create)
        do {
            let descriptor = try FileDescriptor.open(
                FilePath(path), access, options: options.union(.closeOnExec), permissions: creates ? permissions : nil)
            return FileHandle(descriptor: descriptor, path: path)
        } catch {
            throw IOError(path: path, operation: creates ? "create" : "open", error: error)
        }
    }

    /// Opens `path` like ``open(_:_:options:permissions:)`` (creating it when missing) and,
    /// when this call created the file, makes its directory entry durable (fsync of the parent
    /// directory): a file the cache relies on (journal, lock) must not vanish in a power loss
    /// after the command reported success.
    static func openCreatingDurably(
        _ path: String, _ access: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions = .ownerReadWrite
    ) throws(IOError) -> FileHandle {
        let existed = POSIX.exists(path)
        let file = try open(path, access, options: options.union(.create), permissions: permissions)
        if !existed { try POSIX.syncDirectory(POSIX.parentDirectory(path)) }
        return file
    }

    /// Opens `path` for reading; `nil` when it does not exist.
    static func openIfExists(_ path: String) throws(IOError) -> FileHandle? {
        do {
            return FileHandle(descriptor: try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec), path: path)
        } catch Errno.noSuchFileOrDirectory {
            return nil
        } catch {
            throw IOError(path: path, operation: "open", error: error)
        }
    }

    func close() {
        if isOpen {
            try? descriptor.close()
            isOpen = false
        }
    }

    func size() throws(IOError) -> Int {
        do {
            return Int(try descriptor.stat().size)
        } catch {
            throw IOError(path: path, operation: "stat", error: error)
        }
    }

    /// Whether `path` names this open file (same device and inode): `false` when it was
    /// replaced or removed since it was opened.
    func isSameFile(as path: String) -> Bool {
        guard let open = try? descriptor.stat(), let named = try? FilePath(path).stat() else { return false }
        return open.deviceID == named.deviceID && open.inode == named.inode
    }

    /// Reads exactly `count` bytes at `offset` (fewer only at the end of the file).
    func read(_ count: Int, at offset: Int) throws(IOError) -> [UInt8] {
        if count == 0 { return [] }
        var result = [UInt8](repeating: 0, count: count)
        var done = 0
        var failure: (any Error)?
        result.withUnsafeMutableBytes { buffer in
            while done < count {
                do {
                    let n = try descriptor.read(
                        fromAbsoluteOffset: Int64(offset + done), into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
                    if n == 0 { return }
                    done += n
                } catch {
                    failure = error
                    return
                }
            }
        }
        if let failure { throw IOError(path: path, operation: "read", error: failure) }
        if done < count { result.removeLast(count - done) }
        return result
    }

    /// Reads into `buffer` at `offset`; returns the number of bytes read (0 at the end).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(IOError) -> Int {
        do {
            return try descriptor.read(fromAbsoluteOffset: Int64(offset), into: buffer)
        } catch {
            throw IOError(path: path, operation: "read", error: error)
        }
    }

    func readAll() throws(IOError) -> [UInt8] {
        try read(try size(), at: 0)
    }

    /// Writes all of `bytes` at the current position (the end, for `.append`).
    func writeAll(_ bytes: some Sequence<UInt8>) throws(IOError) {
        do {
            try descriptor.writeAll(bytes)
        } catch {
            throw IOError(path: path, operation: "write", error: error)
        }
    }

    /// Makes the file's content durable: ``POSIX/fullSync(_:)`` (`F_FULLFSYNC` on Darwin,
    /// where plain `fsync` stops at the drive's cache; swift-system has no `fsync`).
    func sync() throws(IOError) {
        if POSIX.fullSync(fd) != 0 { throw IOError(path: path, operation: "fsync", errno: POSIX.errnoValue) }
    }

    func truncate(to length: Int) throws(IOError) {
        do {
            try descriptor.resize(to: Int64(length))
        } catch {
            throw IOError(path: path, operation: "truncate", error: error)
        }
    }
}

extension IOError {
    /// The error of a swift-system call: its `Errno` (anything else counts as `EIO`).
    init(path: String, operation: String, error: any Error) {
        self.init(path: path, operation: operation, errno: (error as? Errno)?.rawValue ?? Errno.ioError.rawValue)
    }
}
