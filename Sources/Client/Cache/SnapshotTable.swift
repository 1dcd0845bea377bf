import CXModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One entry of a snapshot index: where a record's state (and view) lines are.
struct SnapshotEntry {
    var id: String
    var stateOffset: Int
    var stateLength: Int
    var viewOffset: Int
    var viewLength: Int
}

/// The sorted snapshot of one record kind in a generation: `<kind>.jsonl` (one canonical state
/// per line, sorted by id), for customers `<kind>.view.jsonl` (the precomputed `show --json`
/// object of each, same order), `<kind>.facts.jsonl` (the ``InsightFacts`` of each, same order;
/// absent in generations written before it), and `<kind>.idx`, fixed-width lines
/// `<id> <state offset:12 hex> <state length:8 hex> <view offset:12 hex> <view length:8 hex>\n`
/// searched by binary search with `pread`, so a lookup reads a few hundred bytes whatever the
/// cache size.
final class SnapshotTable {
    static let lineWidth = 81

    /// The files of table `name`: states, views (customers only), index and facts.
    static func fileNames(_ name: String) -> [String] {
        ["\(name).jsonl", "\(name).view.jsonl", "\(name).idx", "\(name).facts.jsonl"]
    }

    let count: Int
    private let index: FileHandle?
    private let states: FileHandle?
    private let views: FileHandle?
    private let facts: FileHandle?

    init(directory: String, name: String) throws(IOError) {
        let files = Self.fileNames(name)
        states = try FileHandle.openIfExists(directory + "/" + files[0])
        views = try FileHandle.openIfExists(directory + "/" + files[1])
        index = try FileHandle.openIfExists(directory + "/" + files[2])
        facts = try FileHandle.openIfExists(directory + "/" + files[3])
        count = try (index?.size() ?? 0) / Self.lineWidth
    }

    /// The raw id bytes of entry `i`.
    func idBytes(at i: Int) throws(IOError) -> [UInt8] {
        if let line = cachedLine(i) { return Array(line.prefix(36)) }
        return try index!.read(36, at: i * Self.lineWidth)
    }

    func entry(at i: Int) throws(IOError) -> SnapshotEntry {
        if let line = cachedLine(i) { return try Self.parse(line, path: index!.path) }
        let line = try index!.read(Self.lineWidth, at: i * Self.lineWidth)
        return try Self.parse(line[...], path: index!.path)
    }

    /// The index lines the last fenced search read (``lowerBound(_:)``): entry `start` onwards.
    /// A sync looks records up in id order, so the next search, and the reads of the entry it
    /// finds, mostly fall in the same lines; the files of a generation never change.
    private var searchedLines: (start: Int, bytes: [UInt8])?

    /// Line `i` of the index, when the last search read it.
    private func cachedLine(_ i: Int) -> ArraySlice<UInt8>? {
        guard let (start, bytes) = searchedLines, i >= start, (i - start + 1) * Self.lineWidth <= bytes.count else { return nil }
        return bytes[((i - start) * Self.lineWidth)..<((i - start + 1) * Self.lineWidth)]
    }

    static func parse<Line: RandomAccessCollection<UInt8>>(_ line: Line, path: String) throws(IOError) -> SnapshotEntry
    where Line.Index == Int {
        guard line.count >= lineWidth - 1 else { throw IOError(path: path, operation: "read index of", errno: EIO) }
        let base = line.startIndex
        func hex(_ from: Int, _ width: Int) -> Int {
            var value = 0
            for byte in line[(base + from)..<(base + from + width)] {
                value = value << 4 | Int(byte >= 0x61 ? byte - 0x61 + 10 : byte - 0x30)
            }
            return value
        }
        return SnapshotEntry(
            id: String(decoding: line[base..<(base + 36)], as: UTF8.self),
            stateOffset: hex(37, 12), stateLength: hex(50, 8), viewOffset: hex(59, 12), viewLength: hex(72, 8))
    }

    /// Formats one index line.
    static func indexLine(id: String, stateOffset: Int, stateLength: Int, viewOffset: Int, viewLength: Int) -> [UInt8] {
        var line = Array(id.utf8)
        line.reserveCapacity(lineWidth)
        func hex(_ value: Int, _ width: Int) {
            let digits = Array("0123456789abcdef".utf8)
            for shift in stride(from: (width - 1) * 4, through: 0, by: -4) {
                line.append(digits[(value >> shift) & 0xF])
            }
        }
        line.append(UInt8(ascii: " "))
        hex(stateOffset, 12)
        line.append(UInt8(ascii: " "))
        hex(stateLength, 8)
        line.append(UInt8(ascii: " "))
        hex(viewOffset, 12)
        line.append(UInt8(ascii: " "))
        hex(viewLength, 8)
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// The first entry whose id is ≥ `key`.
    ///
    /// A binary search of the index file, one read per probe — until the table has been
    /// searched ``fenceAfterSearches`` times (a sync looks up every record it touches): it then
    /// keeps every ``fenceStride``-th id in memory (``fence``), and a search costs one read of at
    /// most that many lines.
    func lowerBound(_ key: [UInt8]) throws(IOError) -> Int {
        searches += 1
        if fence == nil, searches > Self.fenceAfterSearches, count > Self.fenceStride * 4 {
            fence = try stride(from: 0, to: count, by: Self.fenceStride).map { (i) throws(IOError) in try idBytes(at: i) }
        }
        guard let fence else {
            return try CXClient.lowerBound(count: count) { (i) throws(IOError) in try idBytes(at: i).lexicographicallyPrecedes(key) }
        }
        // fence[j - 1] < key ≤ fence[j]: the answer lies in ((j - 1) · stride, j · stride].
        let j = CXClient.lowerBound(count: fence.count) { fence[$0].lexicographicallyPrecedes(key) }
        guard j > 0 else { return 0 }
        // The lines from fence j - 1 to fence j (both included: the entry found is read next).
        let start = (j - 1) * Self.fenceStride + 1, end = Swift.min(j * Self.fenceStride, count)
        guard start < end else { return end }
        let lines: [UInt8]
        if let searched = searchedLines, searched.start == start - 1 {
            lines = searched.bytes
        } else {
            let last = Swift.min(end + 1, count)
            lines = try index!.read((last - start + 1) * Self.lineWidth, at: (start - 1) * Self.lineWidth)
            guard lines.count == (last - start + 1) * Self.lineWidth else { throw IOError(path: index!.path, operation: "read index of", errno: EIO) }
            searchedLines = (start - 1, lines)
        }
        for k in 0..<(end - start) {
            let base = (k + 1) * Self.lineWidth
            if !lines[base..<(base + 36)].lexicographicallyPrecedes(key) { return start + k }
        }
        return end
    }

    /// Every ``fenceStride``-th id of the index, once the table has been searched often.
    private var fence: [[UInt8]]?
    private var searches = 0
    static let fenceStride = 64
    static let fenceAfterSearches = 32

    /// The position of `id` in the table (its index line), or `nil` when the table lacks it.
    func position(of id: String) throws(IOError) -> Int? {
        guard count > 0 else { return nil }
        let key = Array(id.utf8)
        let position = try lowerBound(key)
        guard position < count, try idBytes(at: position) == key else { return nil }
        return position
    }

    func find(_ id: String) throws(IOError) -> SnapshotEntry? {
        try position(of: id).map { (position) throws(IOError) in try entry(at: position) }
    }

    /// Up to `limit` ids starting with `prefix`.
    func ids(withPrefix prefix: String, limit: Int) throws(IOError) -> [String] {
        guard count > 0 else { return [] }
        let key = Array(prefix.utf8)
        var position = try lowerBound(key)
        var result: [String] = []
        while position < count, result.count < limit {
            let id = try idBytes(at: position)
            guard id.starts(with: key) else { break }
            result.append(String(decoding: id, as: UTF8.self))
            position += 1
        }
        return result
    }

    /// The raw bytes of the whole index file (for in-memory lookups of many records).
    func indexFileBytes() throws(IOError) -> [UInt8] {
        try index?.readAll() ?? []
    }

    var indexPath: String { index?.path ?? "" }

    func stateBytes(_ entry: SnapshotEntry) throws(IOError) -> [UInt8] {
        let end = entry.stateOffset + entry.stateLength
        if let (offset, bytes) = stateWindow, entry.stateOffset >= offset, end <= offset + bytes.count {
            return Array(bytes[(entry.stateOffset - offset)..<(end - offset)])
        }
        // Reading on from just after the last state read: the reader walks the table in order
        // (a sync's batches), so read ahead a window of the file rather than one state at a time.
        let sequential = entry.stateOffset >= lastStateEnd && entry.stateOffset - lastStateEnd < Self.stateWindowBytes / 8
        lastStateEnd = end
        guard sequential, entry.stateLength < Self.stateWindowBytes / 2 else {
            return try states!.read(entry.stateLength, at: entry.stateOffset)
        }
        let window = try states!.read(Self.stateWindowBytes, at: entry.stateOffset)
        guard window.count >= entry.stateLength else { throw IOError(path: states!.path, operation: "read", errno: EIO) }
        stateWindow = (entry.stateOffset, window)
        return Array(window[0..<entry.stateLength])
    }

    /// The part of the states file read ahead by ``stateBytes(_:)``, and where the last state
    /// read ended.
    private var stateWindow: (offset: Int, bytes: [UInt8])?
    private var lastStateEnd = 0
    static let stateWindowBytes = 64 << 10

    func viewBytes(_ entry: SnapshotEntry) throws(IOError) -> [UInt8]? {
        guard entry.viewLength > 0, let views else { return nil }
        return try views.read(entry.viewLength, at: entry.viewOffset)
    }

    /// Calls `body` with every entry of the index in id order, reading the index file through
    /// a window of a few megabytes (compaction: a table of 500,000 records no longer puts its
    /// whole index, one string per id, in memory at once).
    func forEachEntry(_ body: (SnapshotEntry) throws -> Void) throws {
        guard let index else { return }
        try LineReader(file: index, chunk: 1 << 20).forEachLine { line in
            try body(try Self.parse(line, path: index.path))
            return true
        }
    }

    var stateFile: FileHandle? { states }
    var viewFile: FileHandle? { views }
    /// The facts file; `nil` in a generation written before facts were kept.
    var factsFile: FileHandle? { facts }
    /// Whether every record of the table has its facts line (or there is no record).
    var hasFacts: Bool { facts != nil || count == 0 }
}

/// Writes one snapshot table of a new generation (``SnapshotTable/fileNames(_:)``), records
/// appended in id order: a state line, a view line (when the table has views), a facts line
/// and the index line pointing at the state and view. Used by compaction and by ``CacheStore/bulkLoad(directory:states:cursor:)``.
final class SnapshotTableWriter {
    private let states: BufferedWriter
    private let views: BufferedWriter?
    private let index: BufferedWriter
    private let facts: BufferedWriter
    /// Records written so far.
    private(set) var count = 0

    /// Creates (truncates) the table's files in `directory`; `views: false` writes no view file.
    init(directory: String, name: String, views: Bool) throws(IOError) {
        let files = SnapshotTable.fileNames(name)
        states = try BufferedWriter(path: directory + "/" + files[0])
        self.views = views ? try BufferedWriter(path: directory + "/" + files[1]) : nil
        index = try BufferedWriter(path: directory + "/" + files[2])
        facts = try BufferedWriter(path: directory + "/" + files[3])
    }

    /// Appends one record; ids must come in ascending byte order. `view` is dropped when the
    /// table has no view file; `facts` is the record's ``InsightFacts`` JSON line.
    func append(
        id: String, state: some Collection<UInt8>, view: (some Collection<UInt8>)?, facts factsLine: some Collection<UInt8>
    ) throws(IOError) {
        let stateOffset = states.offset
        try states.write(state)
        try states.write(byte: UInt8(ascii: "\n"))
        var viewOffset = 0, viewLength = 0
        if let views, let view {
            viewOffset = views.offset
            viewLength = view.count
            try views.write(view)
            try views.write(byte: UInt8(ascii: "\n"))
        }
        try index.write(SnapshotTable.indexLine(
            id: id, stateOffset: stateOffset, stateLength: state.count, viewOffset: viewOffset, viewLength: viewLength))
        try facts.write(factsLine)
        try facts.write(byte: UInt8(ascii: "\n"))
        count += 1
    }

    /// Flushes, fsyncs and closes the files.
    func finish() throws(IOError) {
        try states.finish()
        try views?.finish()
        try index.finish()
        try facts.finish()
    }
}
