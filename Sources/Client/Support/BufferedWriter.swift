import Dispatch
import Foundation

/// Writes a new file through a large buffer, handing each full buffer to a background thread
/// (used for every file of a new cache generation: snapshot tables, indexes, the book).
///
/// Write-behind: the kernel's copy of the bytes into the page cache was about a third of a
/// compaction's time, on the one thread that also merges the journal into the tables (the last
/// step of a first sync, with the other core idle). ``write(_:)`` fills a buffer and queues it;
/// at most ``buffersInFlight`` are queued per file, so a slow disk holds the writer back rather
/// than its memory growing. A failed write is reported by the next call (and by ``finish()``),
/// which is before anything relies on the file: callers finish every file of a generation
/// before naming it in `CURRENT`.
final class BufferedWriter {
    /// The path written, for messages.
    let path: String
    private let file: WriteBehindFile
    private var buffer: [UInt8] = []
    private let capacity: Int
    /// Bytes written so far (flushed or buffered).
    private(set) var offset = 0
    /// Called with each buffer as it is queued, in order (a compaction's book reads the facts
    /// file's lines from it as they are written).
    private let observer: (([UInt8]) -> Void)?

    /// Full buffers queued and not yet written, per file.
    static let buffersInFlight = 2

    /// Creates (truncates) `path`; `observer` sees every byte written, buffer by buffer.
    init(path: String, capacity: Int = 1 << 20, observer: (([UInt8]) -> Void)? = nil) throws(IOError) {
        self.path = path
        self.observer = observer
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

    /// Queues the buffered bytes (they are written in the order queued).
    func flush() throws(IOError) {
        if buffer.isEmpty { return }
        var full: [UInt8] = []
        full.reserveCapacity(capacity)
        swap(&full, &buffer)
        observer?(full)
        try file.enqueue(full)
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
/// time, in the order queued) and by ``finish()`` inside `queue.sync`; `failure` is read and
/// written only under `lock`; `slots` is a semaphore, safe from any thread.
private final class WriteBehindFile: @unchecked Sendable {
    /// One thread writes for all files: more would compete with the process's own work on a
    /// laptop's cores for no gain (the copies are memory-bound).
    private static let queue = DispatchQueue(label: "cx.cache.write-behind", qos: .userInitiated)

    private let handle: FileHandle
    private let slots = DispatchSemaphore(value: BufferedWriter.buffersInFlight)
    private let lock = NSLock()
    private var failure: IOError?

    init(_ handle: FileHandle) {
        self.handle = handle
    }

    /// Queues `bytes`, waiting while ``BufferedWriter/buffersInFlight`` buffers are queued.
    func enqueue(_ bytes: [UInt8]) throws(IOError) {
        try throwFailure()
        slots.wait()
        Self.queue.async { [self] in
            defer { slots.signal() }
            guard currentFailure == nil else { return }
            do throws(IOError) {
                try handle.writeAll(bytes)
            } catch {
                record(error)
            }
        }
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
