#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file line by line through a large buffer, without copying lines that fit the
/// buffer more than once.
final class LineReader {
    private let file: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var fileOffset = 0
    private var atEnd = false
    private let chunk: Int
    /// Where reading stops: the end of `range`, else the file's size, read at the first refill
    /// (the files read are a generation's, which never change). Never more is zeroed for a read
    /// than the file holds: a 4 MiB chunk for a file of a few lines cost a debug build's tests
    /// seconds per compaction.
    private var endOffset: Int

    /// Reads `file`, or only its bytes in `range` (which must start at the beginning of a line).
    init(file: FileHandle, range: Range<Int>? = nil, chunk: Int = 4 << 20) {
        self.file = file
        self.chunk = chunk
        fileOffset = range?.lowerBound ?? 0
        endOffset = range?.upperBound ?? Int.max
    }

    /// Where a file of `size` bytes splits near `offset` on a line boundary: just after the
    /// first newline at or after `offset` (`size` when there is none).
    static func lineBoundary(in file: FileHandle, near offset: Int, size: Int) throws(IOError) -> Int {
        var position = offset
        while position < size {
            let block = try file.read(Swift.min(64 << 10, size - position), at: position)
            if block.isEmpty { break }
            if let newline = block.firstIndex(of: 0x0A) { return position + newline + 1 }
            position += block.count
        }
        return size
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
            if try stop || !refill() { return }
        }
    }

    /// The next complete line (without its newline), left unread: ``skip(_:)`` consumes it.
    /// `nil` at the end of the file (a trailing line without a newline is ignored).
    func peekLine() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer.withUnsafeBufferPointer({ Self.findNewline($0, from: start) }) {
                return buffer[start..<newline]
            }
            if !(try refill()) { return nil }
        }
    }

    /// Consumes `line`, the last one ``peekLine()`` returned.
    func skip(_ line: ArraySlice<UInt8>) {
        start = line.endIndex + 1
    }

    /// Reads the next chunk behind the buffered bytes, keeping the unread ones; `false` once
    /// the file is exhausted.
    private func refill() throws -> Bool {
        if atEnd { return false }
        if endOffset == Int.max { endOffset = try file.size() }
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        let previous = buffer.count
        let want = Swift.min(Swift.max(chunk, previous), endOffset - fileOffset)
        buffer.append(contentsOf: repeatElement(0, count: want))
        let n = try buffer.withUnsafeMutableBytes { bytes throws(IOError) in
            try file.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[previous...]), at: fileOffset)
        }
        buffer.removeLast(want - n)
        fileOffset += n
        if n == 0 || fileOffset >= endOffset { atEnd = true }
        return n > 0
    }

    static func findNewline(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard from < bytes.count else { return nil }
        guard let found = memchr(bytes.baseAddress! + from, 0x0A, bytes.count - from) else { return nil }
        return bytes.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }
}
