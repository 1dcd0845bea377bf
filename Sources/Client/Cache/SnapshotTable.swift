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
/// object of each, same order), and `<kind>.idx`, fixed-width lines
/// `<id> <state offset:12 hex> <state length:8 hex> <view offset:12 hex> <view length:8 hex>\n`
/// searched by binary search with `pread`, so a lookup reads a few hundred bytes whatever the
/// cache size.
final class SnapshotTable {
    static let lineWidth = 81

    let count: Int
    private let index: FileHandle?
    private let states: FileHandle?
    private let views: FileHandle?

    init(directory: String, name: String) throws(IOError) {
        index = try FileHandle.openIfExists(directory + "/\(name).idx", flags: O_RDONLY)
        states = try FileHandle.openIfExists(directory + "/\(name).jsonl", flags: O_RDONLY)
        views = try FileHandle.openIfExists(directory + "/\(name).view.jsonl", flags: O_RDONLY)
        count = try (index?.size() ?? 0) / Self.lineWidth
    }

    /// The raw id bytes of entry `i`.
    func idBytes(at i: Int) throws(IOError) -> [UInt8] {
        try index!.read(36, at: i * Self.lineWidth)
    }

    func entry(at i: Int) throws(IOError) -> SnapshotEntry {
        let line = try index!.read(Self.lineWidth, at: i * Self.lineWidth)
        return try Self.parse(line[...], path: index!.path)
    }

    static func parse(_ line: ArraySlice<UInt8>, path: String) throws(IOError) -> SnapshotEntry {
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
    func lowerBound(_ key: [UInt8]) throws(IOError) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if try idBytes(at: mid).lexicographicallyPrecedes(key) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    func find(_ id: String) throws(IOError) -> SnapshotEntry? {
        guard count > 0 else { return nil }
        let key = Array(id.utf8)
        let position = try lowerBound(key)
        guard position < count, try idBytes(at: position) == key else { return nil }
        return try entry(at: position)
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
        try states!.read(entry.stateLength, at: entry.stateOffset)
    }

    func viewBytes(_ entry: SnapshotEntry) throws(IOError) -> [UInt8]? {
        guard entry.viewLength > 0, let views else { return nil }
        return try views.read(entry.viewLength, at: entry.viewOffset)
    }

    /// The whole index (used by compaction).
    func allEntries() throws(IOError) -> [SnapshotEntry] {
        guard let index else { return [] }
        let bytes = try index.readAll()
        var result: [SnapshotEntry] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            result.append(try Self.parse(bytes[(i * Self.lineWidth)..<((i + 1) * Self.lineWidth)], path: index.path))
        }
        return result
    }

    var stateFile: FileHandle? { states }
    var viewFile: FileHandle? { views }
}

/// `activities.by-customer.idx`: fixed-width lines `<customer id> <activity id>\n`, sorted, to
/// find a customer's activities by binary search.
final class ByCustomerIndex {
    static let lineWidth = 74
    let count: Int
    private let file: FileHandle?

    init(directory: String) throws(IOError) {
        file = try FileHandle.openIfExists(directory + "/activities.by-customer.idx", flags: O_RDONLY)
        count = try (file?.size() ?? 0) / Self.lineWidth
    }

    func activityIDs(of customerID: String) throws(IOError) -> [String] {
        guard let file, count > 0 else { return [] }
        let key = Array(customerID.utf8)
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if try file.read(36, at: mid * Self.lineWidth).lexicographicallyPrecedes(key) { low = mid + 1 } else { high = mid }
        }
        var result: [String] = []
        while low < count {
            let line = try file.read(Self.lineWidth, at: low * Self.lineWidth)
            guard line.count == Self.lineWidth, Array(line[0..<36]) == key else { break }
            result.append(String(decoding: line[37..<73], as: UTF8.self))
            low += 1
        }
        return result
    }

    /// The raw bytes of the whole file (for in-memory lookups of many customers).
    func fileBytes() throws(IOError) -> [UInt8] {
        try file?.readAll() ?? []
    }

    /// Every `(customer, activity)` pair (used by compaction).
    func allPairs() throws(IOError) -> [(customer: [UInt8], activity: [UInt8])] {
        guard let file else { return [] }
        let bytes = try file.readAll()
        var result: [(customer: [UInt8], activity: [UInt8])] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            let base = i * Self.lineWidth
            result.append((Array(bytes[base..<(base + 36)]), Array(bytes[(base + 37)..<(base + 73)])))
        }
        return result
    }
}

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

/// The small `meta.json` of a generation.
struct SnapshotMeta {
    var generation = 0
    var customers = 0
    var activities = 0
    var cursor: String?
    var lastSync: String?
    /// The user's scope as last seen by a sync (absent in caches written before scopes).
    var scope: SyncScope?
    /// Whether a rescope is under way (see ``SyncEngine``).
    var rescoping = false
    /// The replica incarnation the cache writes as (absent in caches written before them).
    var replica: ReplicaIncarnation?

    static func load(_ path: String) throws -> SnapshotMeta {
        guard let bytes = try POSIX.readFile(path) else { return SnapshotMeta() }
        var meta = SnapshotMeta()
        do {
            try JSONScanner.scan(bytes) { scanner throws(JSONScanner.Failure) in
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    switch key {
                    case "generation": meta.generation = Int(try scanner.integer())
                    case "customers": meta.customers = Int(try scanner.integer())
                    case "activities": meta.activities = Int(try scanner.integer())
                    case "cursor": meta.cursor = try scanner.consumeNull() ? nil : scanner.string()
                    case "last_sync": meta.lastSync = try scanner.consumeNull() ? nil : scanner.string()
                    case "scope": meta.scope = try scanner.consumeNull() ? nil : SyncScope(reading: &scanner)
                    case "rescoping": meta.rescoping = try scanner.bool()
                    case "replica": meta.replica = try scanner.consumeNull() ? nil : ReplicaIncarnation.read(&scanner)
                    default: try scanner.skipValue()
                    }
                }
            }
        } catch {
            throw CXError(.failure, "the cache file \(path) is unreadable (\(error))",
                          hint: "Move the cache directory away and run `cx sync` to download the data again.")
        }
        return meta
    }

    func jsonBytes() -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"format\":1,\"generation\":")
        w.number(UInt64(generation))
        w.raw(",\"customers\":")
        w.number(UInt64(customers))
        w.raw(",\"activities\":")
        w.number(UInt64(activities))
        w.raw(",\"cursor\":")
        w.optionalString(cursor)
        w.raw(",\"last_sync\":")
        w.optionalString(lastSync)
        w.raw(",\"scope\":")
        if let scope { scope.encode(into: &w) } else { w.raw("null") }
        w.raw(",\"rescoping\":")
        w.bool(rescoping)
        w.raw(",\"replica\":")
        if let replica { replica.write(to: &w) } else { w.raw("null") }
        w.raw("}\n")
        return w.bytes
    }
}
