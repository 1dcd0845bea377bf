import CXModel

/// The append-only journal of a cache generation (`journal.jsonl`): one JSON object per line,
/// appended and fsync'd by writers, replayed over the snapshot by every reader.
///
/// Lines (see docs/cache-format.md):
/// ```
/// {"op":"put","id":ID,"kind":K,"pending":B,"conflicted":B,"deleted":B,"customer_id":ID|null,
///  "state_bytes":N,"view_bytes":M,"state":{…},"view":{…}|null}
/// {"op":"ack","id":ID}                      the server acknowledged the record's pending state
/// {"op":"cursor","cursor":"c123"}           the pull cursor after a page
/// {"op":"synced","at":"2026-11-20T10:02:03.120Z"}   a sync finished successfully
/// {"op":"drop","id":ID,"kind":K}            the record left the user's scope: forget it
/// {"op":"scope","scope":{"role":R,"territories":[…]}}   the user's scope as last seen
/// {"op":"rescope","active":B}               a rescope started (true) or finished (false)
/// {"op":"batch","lines":N}                  the next N lines apply together or not at all
/// ```
/// A `put` holds the record's full effective state (already merged with everything the cache
/// knew), so the last `put` of an id wins. A last line without its newline, or a batch whose
/// lines are not all complete, is a torn write from a crash: it is ignored (and truncated by the
/// next writer).
struct Journal {
    struct Put {
        var kind: RecordKind
        var pending: Bool
        var conflicted: Bool
        var deleted: Bool
        var customerID: String?
        var state: Range<Int>
        var view: Range<Int>?
    }

    /// The journal's bytes as loaded and appended, one chunk per load or append (a writer's
    /// batch), so a growing journal is never copied into a larger array: a first sync's 40 MB
    /// journal held 83 MB in one array that doubled as it grew. A line never spans two chunks:
    /// a chunk's bytes after its last complete line are a torn tail, cut before the next append.
    private var chunks: [[UInt8]] = []
    /// Where each chunk starts in the journal file, ascending.
    private var chunkStarts: [Int] = []
    /// The bytes held (the applied prefix and any torn tail after it).
    private var byteCount = 0
    /// Length of the complete, applied prefix; anything after is a torn tail.
    private(set) var validLength = 0
    /// The last put of every id.
    private(set) var puts: [String: Put] = [:]
    /// Pending status decided by the journal (puts, acks and drops), overriding the snapshot's list.
    private(set) var pending: [String: Bool] = [:]
    /// Ids whose last journal entry is a `drop`, with their kind: gone, whatever the snapshot holds.
    private(set) var dropped: [String: RecordKind] = [:]
    /// Whether a `cursor` line was read (its value may be null: a rescope restarts from scratch).
    private(set) var hasCursor = false
    private(set) var cursor: String?
    /// The last `scope` line, if any.
    private(set) var scope: SyncScope?
    /// The last `rescope` line, if any.
    private(set) var rescoping: Bool?
    private(set) var lastSync: String?
    /// The replica incarnation the cache writes as (last `replica` line).
    private(set) var replica: ReplicaIncarnation?
    private(set) var warnings: [String] = []

    init() {}

    init(bytes: [UInt8]) {
        appendWritten(bytes)
    }

    /// Appends bytes already written to the file and applies their lines.
    mutating func appendWritten(_ written: [UInt8]) {
        if byteCount > validLength, var last = chunks.popLast() {
            // The torn tail sits in the last chunk: every chunk before it was applied whole.
            last.removeLast(byteCount - validLength)
            byteCount = validLength
            if last.isEmpty { chunkStarts.removeLast() } else { chunks.append(last) }
        }
        guard !written.isEmpty else { return }
        chunks.append(written)
        chunkStarts.append(byteCount)
        byteCount += written.count
        ingest(written, at: chunkStarts[chunkStarts.count - 1])
    }

    /// Whether the journal decides `id` (a put or a drop), so a snapshot line of it is stale.
    func supersedes(_ id: String) -> Bool { puts[id] != nil || dropped[id] != nil }

    func stateBytes(_ put: Put) -> ArraySlice<UInt8> { bytes(in: put.state) }
    func viewBytes(_ put: Put) -> ArraySlice<UInt8>? { put.view.map { bytes(in: $0) } }

    /// The bytes at `range` of the journal file (within one line, so within one chunk).
    func bytes(in range: Range<Int>) -> ArraySlice<UInt8> {
        // The last chunk starting at or before the range.
        let index = lowerBound(count: chunkStarts.count) { chunkStarts[$0] <= range.lowerBound } - 1
        let start = chunkStarts[index]
        return chunks[index][(range.lowerBound - start)..<(range.upperBound - start)]
    }

    /// Applies the complete lines of `chunk`, which starts at byte `chunkStart` of the file.
    private mutating func ingest(_ chunk: [UInt8], at chunkStart: Int) {
        var position = 0
        chunk.withUnsafeBufferPointer { all in
            while position < all.count {
                guard let end = LineReader.findNewline(all, from: position) else { break }
                let line = UnsafeBufferPointer(rebasing: all[position..<end])
                if line.starts(with: Self.batchPrefix) {
                    let count = Self.parseBatch(line) ?? 0
                    // All `count` following lines must be complete, else the batch is torn.
                    var probe = end + 1
                    var complete = true
                    for _ in 0..<count {
                        guard let next = LineReader.findNewline(all, from: probe) else {
                            complete = false
                            break
                        }
                        probe = next + 1
                    }
                    if !complete { break }
                    // Apply the batch's lines as its members: a batch line among them (only in a
                    // corrupt file) is an unreadable member, not a batch of its own that could
                    // be torn. Otherwise truncating a torn tail could tear the enclosing batch
                    // on the next load and take back lines already applied.
                    var member = end + 1
                    for _ in 0..<count {
                        let memberEnd = LineReader.findNewline(all, from: member)!
                        if !apply(UnsafeBufferPointer(rebasing: all[member..<memberEnd]), base: chunkStart + member) {
                            warnings.append("ignored an unreadable cache journal line at byte \(chunkStart + member)")
                        }
                        member = memberEnd + 1
                    }
                    position = member
                    continue
                } else if !apply(line, base: chunkStart + position) {
                    warnings.append("ignored an unreadable cache journal line at byte \(chunkStart + position)")
                }
                position = end + 1
            }
        }
        validLength = chunkStart + position
    }

    private mutating func apply(_ line: UnsafeBufferPointer<UInt8>, base: Int) -> Bool {
        if line.starts(with: Self.putPrefix) {
            guard let (id, put) = Self.parsePut(line, base: base) else { return false }
            puts[id] = put
            pending[id] = put.pending
            dropped[id] = nil
            return true
        }
        var op = "", id = "", cursor: String?, at: String?, kind: RecordKind?, scope: SyncScope?, active: Bool?
        var replica: ReplicaIncarnation?
        do {
            try JSONScanner.scan(line) { scanner throws(JSONScanner.Failure) in
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    switch key {
                    case "op": op = try scanner.string()
                    case "id": id = try scanner.string()
                    case "cursor": cursor = try scanner.consumeNull() ? nil : scanner.string()
                    case "at": at = try scanner.string()
                    case "kind": kind = RecordKind(rawValue: try scanner.string())
                    case "scope": scope = try SyncScope(reading: &scanner)
                    case "active": active = try scanner.bool()
                    case "replica": replica = try ReplicaIncarnation.read(&scanner)
                    default: try scanner.skipValue()
                    }
                }
                try scanner.expectEnd()
            }
        } catch {
            return false
        }
        switch op {
        case "ack":
            guard !id.isEmpty else { return false }
            pending[id] = false
        case "cursor":
            self.cursor = cursor
            hasCursor = true
        case "synced":
            lastSync = at
        case "drop":
            guard !id.isEmpty, let kind else { return false }
            puts[id] = nil
            pending[id] = false
            dropped[id] = kind
        case "scope":
            guard let scope else { return false }
            self.scope = scope
        case "rescope":
            guard let active else { return false }
            rescoping = active
        case "replica":
            guard let replica else { return false }
            self.replica = replica
        default:
            return false
        }
        return true
    }

    // MARK: Encoding

    static let putPrefix = Array("{\"op\":\"put\",\"id\":\"".utf8)
    static let batchPrefix = Array("{\"op\":\"batch\",\"lines\":".utf8)

    /// One `put` line (with its newline).
    static func putLine(
        id: String, kind: RecordKind, pending: Bool, conflicted: Bool, deleted: Bool, customerID: String?,
        state: [UInt8], view: [UInt8]?
    ) -> [UInt8] {
        var w = JSONWriter(capacity: state.count + (view?.count ?? 0) + 220)
        w.raw("{\"op\":\"put\",\"id\":")
        w.string(id)
        w.raw(",\"kind\":")
        w.string(kind.rawValue)
        w.raw(",\"pending\":")
        w.bool(pending)
        w.raw(",\"conflicted\":")
        w.bool(conflicted)
        w.raw(",\"deleted\":")
        w.bool(deleted)
        w.raw(",\"customer_id\":")
        w.optionalString(customerID)
        w.raw(",\"state_bytes\":")
        w.number(UInt64(state.count))
        w.raw(",\"view_bytes\":")
        w.number(UInt64(view?.count ?? 0))
        w.raw(",\"state\":")
        w.rawJSON(state)
        w.raw(",\"view\":")
        if let view { w.rawJSON(view) } else { w.raw("null") }
        w.raw("}\n")
        return w.bytes
    }

    static func ackLine(id: String) -> [UInt8] {
        var w = JSONWriter(capacity: 64)
        w.raw("{\"op\":\"ack\",\"id\":")
        w.string(id)
        w.raw("}\n")
        return w.bytes
    }

    static func cursorLine(_ cursor: String?) -> [UInt8] {
        var w = JSONWriter(capacity: 64)
        w.raw("{\"op\":\"cursor\",\"cursor\":")
        w.optionalString(cursor)
        w.raw("}\n")
        return w.bytes
    }

    static func syncedLine(_ at: Timestamp) -> [UInt8] {
        var w = JSONWriter(capacity: 64)
        w.raw("{\"op\":\"synced\",\"at\":")
        w.timestamp(at)
        w.raw("}\n")
        return w.bytes
    }

    static func dropLine(id: String, kind: RecordKind) -> [UInt8] {
        var w = JSONWriter(capacity: 96)
        w.raw("{\"op\":\"drop\",\"id\":")
        w.string(id)
        w.raw(",\"kind\":")
        w.string(kind.rawValue)
        w.raw("}\n")
        return w.bytes
    }

    static func scopeLine(_ scope: SyncScope) -> [UInt8] {
        var w = JSONWriter(capacity: 128)
        w.raw("{\"op\":\"scope\",\"scope\":")
        scope.encode(into: &w)
        w.raw("}\n")
        return w.bytes
    }

    static func rescopeLine(active: Bool) -> [UInt8] {
        var w = JSONWriter(capacity: 48)
        w.raw("{\"op\":\"rescope\",\"active\":")
        w.bool(active)
        w.raw("}\n")
        return w.bytes
    }

    static func replicaLine(_ replica: ReplicaIncarnation) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.raw("{\"op\":\"replica\",\"replica\":")
        replica.write(to: &w)
        w.raw("}\n")
        return w.bytes
    }

    static func batchLine(count: Int) -> [UInt8] {
        Array("{\"op\":\"batch\",\"lines\":\(count)}\n".utf8)
    }

    // MARK: Parsing the fixed layout of put lines

    private static func parseBatch(_ line: UnsafeBufferPointer<UInt8>) -> Int? {
        var cursor = ByteCursor(line)
        guard cursor.expect(batchPrefix), let count = cursor.integer(), cursor.expect(Array("}".utf8)), cursor.atEnd
        else { return nil }
        return count
    }

    /// Parses a put line written by ``putLine``; `nil` when it does not have that exact layout.
    static func parsePut(_ line: UnsafeBufferPointer<UInt8>, base: Int) -> (String, Put)? {
        var c = ByteCursor(line)
        guard c.expect(putPrefix), let id = c.recordID(), c.expect(Array("\",\"kind\":\"".utf8)),
            let kindText = c.until(UInt8(ascii: "\"")), let kind = RecordKind(rawValue: kindText),
            c.expect(Array("\",\"pending\":".utf8)), let pending = c.bool(),
            c.expect(Array(",\"conflicted\":".utf8)), let conflicted = c.bool(),
            c.expect(Array(",\"deleted\":".utf8)), let deleted = c.bool(),
            c.expect(Array(",\"customer_id\":".utf8))
        else { return nil }
        var customerID: String?
        if c.expect(Array("null".utf8)) {
            customerID = nil
        } else {
            guard c.expect(Array("\"".utf8)), let parsed = c.recordID(), c.expect(Array("\"".utf8)) else { return nil }
            customerID = parsed
        }
        guard c.expect(Array(",\"state_bytes\":".utf8)), let stateCount = c.integer(),
            c.expect(Array(",\"view_bytes\":".utf8)), let viewCount = c.integer(),
            c.expect(Array(",\"state\":".utf8)), let state = c.skip(stateCount),
            c.expect(Array(",\"view\":".utf8))
        else { return nil }
        var view: Range<Int>?
        if viewCount == 0 {
            guard c.expect(Array("null".utf8)) else { return nil }
        } else {
            guard let range = c.skip(viewCount) else { return nil }
            view = range
        }
        guard c.expect(Array("}".utf8)), c.atEnd else { return nil }
        let shift = { (range: Range<Int>) in (range.lowerBound + base)..<(range.upperBound + base) }
        return (id, Put(kind: kind, pending: pending, conflicted: conflicted, deleted: deleted, customerID: customerID,
                        state: shift(state), view: view.map(shift)))
    }
}

/// A forward-only reader over bytes with exact literal matching.
struct ByteCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var atEnd: Bool { position == bytes.count }

    mutating func expect(_ literal: [UInt8]) -> Bool {
        guard position + literal.count <= bytes.count else { return false }
        for (index, byte) in literal.enumerated() where bytes[position + index] != byte { return false }
        position += literal.count
        return true
    }

    mutating func recordID() -> String? {
        guard position + 36 <= bytes.count else { return nil }
        let slice = UnsafeBufferPointer(rebasing: bytes[position..<position + 36])
        guard RecordIDBytes.isCanonical(slice) else { return nil }
        position += 36
        return String(decoding: slice, as: UTF8.self)
    }

    mutating func until(_ terminator: UInt8) -> String? {
        let start = position
        while position < bytes.count, bytes[position] != terminator { position += 1 }
        guard position < bytes.count else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    mutating func bool() -> Bool? {
        if expect(Array("true".utf8)) { return true }
        if expect(Array("false".utf8)) { return false }
        return nil
    }

    mutating func integer() -> Int? {
        var value = 0
        let start = position
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39, position - start < 15 {
            value = value * 10 + Int(bytes[position] - 0x30)
            position += 1
        }
        return position > start ? value : nil
    }

    mutating func skip(_ count: Int) -> Range<Int>? {
        guard count >= 0, position + count <= bytes.count else { return nil }
        defer { position += count }
        return position..<position + count
    }
}

/// Checks on the 36-byte canonical id form without building strings.
enum RecordIDBytes {
    static func isCanonical(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                if byte != UInt8(ascii: "-") { return false }
            } else if !((0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)) {
                return false
            }
        }
        return true
    }
}
