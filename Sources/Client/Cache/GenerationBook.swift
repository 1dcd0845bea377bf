import CXModel
import Dispatch

/// A generation's `book.bin` (``BookFile``): built from the generation's facts lines, read by
/// ``CacheStore/customerBook()`` so that a report parses nothing. Derived data: when it is
/// missing (generations written before it) or unreadable, the book is built from the facts
/// files.
enum GenerationBook {
    static let fileName = "book.bin"

    /// Writes `book.bin` into the generation `directory` from its customers' and activities'
    /// facts files, durably (a generation written whole: ``CacheStore/bulkLoad(directory:states:cursor:)``).
    static func write(in directory: String) throws {
        let builder = Builder()
        for table in ["customers", "activities"] { builder.add(table: table, of: directory) }
        try builder.write(in: directory)
    }

    /// The bytes of `directory`'s `book.bin`, or `nil` when it has none.
    static func read(in directory: String) throws -> [UInt8]? {
        try POSIX.readFile(directory + "/" + fileName)
    }

    /// Builds a book on its own thread from facts lines as a compaction writes them (the facts
    /// file's buffers, ``add(factsBytes:)``) or from a table's finished facts file
    /// (``add(table:of:)``, a table the compaction hard-linked) — every customer before the first
    /// activity, as ``BookFile/Writer`` requires: callers add the customers table first.
    ///
    /// Parsing the facts was a tenth of a compaction, done after the tables were written by
    /// re-reading them; now it overlaps their writing. At most ``chunksInFlight`` buffers wait.
    ///
    /// `@unchecked Sendable`: the book, the carried partial line and the flags are touched only
    /// by blocks on `queue` (serial), and read by ``write(in:)`` inside `queue.sync`, after every
    /// block queued before it; `slots` is a semaphore, safe from any thread.
    final class Builder: @unchecked Sendable {
        private let queue = DispatchQueue(label: "cx.cache.book", qos: .userInitiated)
        private let slots = DispatchSemaphore(value: chunksInFlight)
        static let chunksInFlight = 4
        private var book = BookFile.Writer()
        /// The bytes after the last newline of the buffers added so far.
        private var partialLine: [UInt8] = []
        /// A facts line did not parse or a table's facts file is missing: no book is written
        /// (readers then use the facts files).
        private var isUnusable = false
        /// Reading a finished facts file failed: ``write(in:)`` throws it.
        private var readFailure: (any Error)?

        /// Adds bytes of a facts file as it is written (any split; lines end with a newline).
        func add(factsBytes bytes: [UInt8]) {
            slots.wait()
            queue.async { [self] in
                defer { slots.signal() }
                read(bytes)
            }
        }

        /// Adds every facts line of `table` (`customers`, `activities`) of the finished
        /// generation `directory`.
        func add(table: String, of directory: String) {
            queue.async { [self] in
                guard !isUnusable else { return }
                let files = SnapshotTable.fileNames(table)
                do {
                    guard let file = try FileHandle.openIfExists(directory + "/" + files[3]) else {
                        // A table without records has no files at all; one with records has its facts.
                        if POSIX.exists(directory + "/" + files[2]) { isUnusable = true }
                        return
                    }
                    try LineReader(file: file).forEachLine { line in
                        add(line)
                        return !isUnusable
                    }
                } catch {
                    isUnusable = true
                    readFailure = error
                }
            }
        }

        /// Writes `book.bin` into `directory`, durably, once every line added is in — or
        /// nothing when a line did not parse or a record cannot be stored faithfully.
        func write(in directory: String) throws {
            let path = directory + "/" + fileName
            POSIX.removeTree(path)
            let (parts, failure): ([[UInt8]]?, (any Error)?) = queue.sync {
                guard !isUnusable, partialLine.isEmpty, book.isFaithful else { return (nil, readFailure) }
                return (book.parts(), nil)
            }
            if let failure { throw failure }
            guard let parts else { return }
            let output = try BufferedWriter(path: path)
            for part in parts { try output.write(part) }
            try output.finish()
        }

        /// Reads the complete lines of `bytes`, after the partial line carried from before.
        private func read(_ bytes: [UInt8]) {
            guard !isUnusable else { return }
            bytes.withUnsafeBufferPointer { all in
                var start = 0
                if !partialLine.isEmpty {
                    guard let newline = LineReader.findNewline(all, from: 0) else {
                        partialLine += all
                        return
                    }
                    partialLine += all[0..<newline]
                    partialLine.withUnsafeBufferPointer { add($0) }
                    partialLine.removeAll(keepingCapacity: true)
                    start = newline + 1
                }
                while start < all.count {
                    guard let newline = LineReader.findNewline(all, from: start) else {
                        partialLine += all[start...]
                        return
                    }
                    add(UnsafeBufferPointer(rebasing: all[start..<newline]))
                    start = newline + 1
                }
            }
        }

        private func add(_ line: UnsafeBufferPointer<UInt8>) {
            guard !isUnusable else { return }
            do {
                try book.add(factsLine: line)
            } catch {
                isUnusable = true
            }
        }
    }
}
