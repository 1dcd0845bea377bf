import Dispatch
import Foundation

/// Writes a new file through a large buffer, handing each full buffer to a background thread
/// (used for every file of a new cache generation: snapshot tables, indexes, the book).
///
/// Write-behind: the kernel's copy of the bytes into the page cache was about a third of a
/// compaction's time, on the one thread that also merges the journal into the tables (the last
/// step of a first sync, with the other core idle). ``write(_:)`` fills one buffer while the
/// other is written; the two are swapped, never reallocated (a buffer allocated here and freed
/// on the writing thread cost a first sync of the sample book 20–30 MB of peak memory), so a
/// file holds two buffers and a slow disk holds the writer back rather than its memory growing.
/// A failed write is reported by the next call (and by ``finish()``), which is before anything
/// relies on the file: callers finish every file of a generation before naming it in `CURRENT`.
final class BufferedWriter {
    private let file: WriteBehindFile
    private var buffer: [UInt8] = []
    private let capacity: Int
    /// Bytes written so far (flushed or buffered).
    private(set) var offset = 0

    /// Creates (truncates) `path`.
    init(path: String, capacity: Int = 1 << 20) throws(IOError) {
        file = WriteBehindFile(try FileHandle.open(path, .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite))
        self.capacity = capacity
        buffer.reserveCapacity(capacity)
    }

    func write(_ bytes: some Collection<UInt8>) throws(IOError) {
        offset += bytes.count
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { try flush() }
    }

    func write(byte: UInt8) throws(IOError) {
        buffer.append(byte)
        offset += 1
        if buffer.count >= capacity { try flush() }
    }

    /// Queues the buffered bytes (they are written in the order queued) and goes on in the
    /// buffer written before, once it is written.
    func flush() throws(IOError) {
        if buffer.isEmpty { return }
        try file.write(&buffer)
        // The first buffer handed back has no storage yet: grow it once, not by doubling.
        if buffer.capacity < capacity { buffer.reserveCapacity(capacity) }
    }

    /// Writes what is left, waits for every queued write, fsyncs and closes; throws the first
    /// failure of any of them.
    func finish() throws(IOError) {
        try flush()
        try file.finish()
    }
}

/// A file written by one background thread: the serial queue shared by every
/// ``BufferedWriter`` of the process.
///
/// `@unchecked Sendable`: after `init` the handle is used only by blocks on ``queue`` (one at a
/// time, in the order queued) and by ``finish()`` inside `queue.sync`; `failure` and
/// `written` are read and written only under `lock`; `idle` is a semaphore, safe from any
/// thread, signalled once per block, so at most one buffer is being written at a time.
private final class WriteBehindFile: @unchecked Sendable {
    /// One thread writes for all files: more would compete with the process's own work on a
    /// laptop's cores for no gain (the copies are memory-bound).
    private static let queue = DispatchQueue(label: "cx.cache.write-behind", qos: .userInitiated)

    private let handle: FileHandle
    private let idle = DispatchSemaphore(value: 1)
    private let lock = NSLock()
    private var failure: IOError?
    /// The buffer last written, emptied, handed back by the next ``write(_:)``.
    private var written: [UInt8] = []

    init(_ handle: FileHandle) {
        self.handle = handle
    }

    /// Queues `bytes` once the buffer queued before is written, and hands that one back in
    /// `bytes`, empty. Each buffer is held by one owner at a time (this call, the block, then
    /// `written`), so emptying it keeps its storage instead of copying it.
    func write(_ bytes: inout [UInt8]) throws(IOError) {
        try throwFailure()
        idle.wait()
        let queued = Queued()
        swap(&queued.bytes, &bytes)
        lock.withLock { swap(&bytes, &written) }
        Self.queue.async { [self] in
            if currentFailure == nil {
                do throws(IOError) {
                    try handle.writeAll(queued.bytes)
                } catch {
                    record(error)
                }
            }
            queued.bytes.removeAll(keepingCapacity: true)
            lock.withLock { swap(&written, &queued.bytes) }
            idle.signal()
        }
    }

    /// A buffer on its way to the writing thread.
    ///
    /// `@unchecked Sendable`: `bytes` is set before the block is queued and touched only by that
    /// block afterwards.
    private final class Queued: @unchecked Sendable {
        var bytes: [UInt8] = []
    }

    /// Waits for the queued writes, then fsyncs and closes the file.
    func finish() throws(IOError) {
        Self.queue.sync {
            defer { handle.close() }
            guard currentFailure == nil else { return }
            do throws(IOError) {
                try handle.sync()
            } catch {
                record(error)
            }
        }
        try throwFailure()
    }

    private var currentFailure: IOError? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }

    private func record(_ error: IOError) {
        lock.lock()
        defer { lock.unlock() }
        if failure == nil { failure = error }
    }

    private func throwFailure() throws(IOError) {
        if let failure = currentFailure { throw failure }
    }
}
