#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads increasing byte ranges of a file through a large window (used by compaction to copy
/// unchanged lines).
final class SequentialReader {
    private let file: FileHandle
    private var window: [UInt8] = []
    private var windowStart = 0
    private let chunk: Int

    init(file: FileHandle, chunk: Int = 4 << 20) {
        self.file = file
        self.chunk = chunk
    }

    func read(_ length: Int, at offset: Int) throws(IOError) -> ArraySlice<UInt8> {
        if offset < windowStart || offset + length > windowStart + window.count {
            window = try file.read(Swift.max(chunk, length), at: offset)
            windowStart = offset
            guard window.count >= length else { throw IOError(path: file.path, operation: "read (truncated file)", errno: EIO) }
        }
        let start = offset - windowStart
        return window[start..<(start + length)]
    }
}
