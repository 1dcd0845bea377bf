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
