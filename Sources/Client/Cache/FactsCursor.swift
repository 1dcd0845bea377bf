/// Walks a generation's `<kind>.facts.jsonl` (one ``InsightFacts`` line per record, in id
/// order, see docs/cache-format.md) forward, for compaction: asked for ids in ascending order,
/// it returns each one's line, skipping the lines of records asked for no more.
final class FactsCursor {
    private let file: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var fileOffset = 0
    private var atEnd = false
    private let chunk: Int

    init(file: FileHandle, chunk: Int = 1 << 20) {
        self.file = file
        self.chunk = chunk
    }

    /// The facts line of `id` (without its newline), or `nil` when the file has none; `id`
    /// must not sort before an id asked for earlier.
    func line(of id: String) throws -> ArraySlice<UInt8>? {
        let key = Array(id.utf8)
        while let line = try peekLine() {
            // A line starts `["<id>"`.
            let lineID = line.dropFirst(2).prefix(key.count)
            if lineID.elementsEqual(key), line.count > key.count + 2, line[line.startIndex + key.count + 2] == UInt8(ascii: "\"") {
                start += line.count + 1
                return line
            }
            if !lineID.lexicographicallyPrecedes(key) { return nil }  // past it: the file has no line of `id`
            start += line.count + 1
        }
        return nil
    }

    /// The next complete line, without consuming it.
    private func peekLine() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) { return buffer[start..<newline] }
            if atEnd { return nil }
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
}
