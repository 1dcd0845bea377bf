/// Walks a generation's `<kind>.facts.jsonl` (one ``InsightFacts`` line per record, in id
/// order, see docs/cache-format.md) forward, for compaction: asked for ids in ascending order,
/// it returns each one's line, skipping the lines of records asked for no more.
final class FactsCursor {
    private let lines: LineReader

    init(file: FileHandle) {
        lines = LineReader(file: file, chunk: 1 << 20)
    }

    /// The facts line of `id` (without its newline), or `nil` when the file has none; `id`
    /// must not sort before an id asked for earlier.
    func line(of id: String) throws -> ArraySlice<UInt8>? {
        let key = Array(id.utf8)
        while let line = try lines.peekLine() {
            // A line starts `["<id>"`.
            let lineID = line.dropFirst(2).prefix(key.count)
            if lineID.elementsEqual(key), line.count > key.count + 2, line[line.startIndex + key.count + 2] == UInt8(ascii: "\"") {
                lines.skip(line)
                return line
            }
            if !lineID.lexicographicallyPrecedes(key) { return nil }  // past it: the file has no line of `id`
            lines.skip(line)
        }
        return nil
    }
}
