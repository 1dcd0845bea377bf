/// The JSON shape of a record state, read but not yet checked; ``RecordState/init(wire:values:)``
/// checks the meaning. Maps are kept as key/value lists in document order (duplicates are
/// caught when the state is built).
///
/// Both formats (``StateFormat``) are read here. A compact state's parts are kept in
/// ``compact`` with their references (replica and write indexes) unresolved;
/// ``RecordState/init(wire:values:)`` resolves them as it checks each entry.
struct WireState {
    var id = ""
    var kind = ""
    var clock: [WireCounter] = []
    var fields: [WireField] = []
    var tags: [WireTag] = []
    var deletion: [WireDeletion] = []
    /// The compact form's parts, before their references are resolved.
    var compact = CompactParts()

    /// The compact form as read: indexes not yet checked against `replicas` and `writes`.
    /// (Structs rather than tuples throughout: arrays of tuples are destroyed through generic
    /// value witnesses, which showed in the decoder's profile.)
    struct CompactParts {
        var version: Int64?
        var replicas: [String] = []
        var counters: [Int64] = []
        var writes: [Write] = []
        var fields: [Field] = []
        var tags: [Tag] = []
        var deletion: [Deletion] = []

        /// `[replica, at, user]`.
        struct Write {
            var replica: Int64
            var at: Int64
            var user: String?
        }
        /// `[value, write, counter]`.
        struct Entry {
            var value: String?
            var write: Int64
            var counter: Int64
        }
        struct Field {
            var name: String
            var entries: [Entry]
        }
        /// `[replica, counter]`.
        struct TagAdd {
            var replica: Int64
            var counter: Int64
        }
        struct Tag {
            var tag: String
            var adds: [TagAdd]
        }
        /// `[deleted, seen, write, counter]`.
        struct Deletion {
            var deleted: Bool
            var seen: [WireCounter]
            var write: Int64
            var counter: Int64
        }
    }

    /// Reads one state object, in either format. Unknown keys are refused, so a typo in a
    /// hand-made state is reported instead of silently ignored; so are parts of one format in a
    /// state of the other.
    static func read(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> WireState {
        var wire = WireState()
        // The parts read, to name a missing one (a key twice is refused by `object`).
        var seen = WireParts()
        // Which shapes the parts had: compact ones need `"v":2`, expanded ones forbid it.
        var compactShapes = 0, expandedShapes = 0
        let start = scanner.offset
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            seen.insert(key)
            switch key {
            case "id": wire.id = try scanner.string()
            case "kind": wire.kind = try scanner.string()
            case "v": wire.compact.version = try scanner.integer()
            case "replicas":
                compactShapes += 1
                try scanner.array { scanner throws(JSONScanner.Failure) in wire.compact.replicas.append(try scanner.string()) }
            case "writes":
                compactShapes += 1
                try scanner.array { scanner throws(JSONScanner.Failure) in wire.compact.writes.append(try readCompactWrite(&scanner)) }
            case "clock":
                if scanner.peek() == UInt8(ascii: "[") {
                    compactShapes += 1
                    try scanner.array { scanner throws(JSONScanner.Failure) in wire.compact.counters.append(try scanner.integer()) }
                } else {
                    expandedShapes += 1
                    wire.clock = try readClock(&scanner)
                }
            case "fields":
                try scanner.object { scanner, name throws(JSONScanner.Failure) in
                    var entries: [WireEntry] = []
                    var compactEntries: [CompactParts.Entry] = []
                    try scanner.array { scanner throws(JSONScanner.Failure) in
                        if scanner.peek() == UInt8(ascii: "[") {
                            compactEntries.append(try readCompactEntry(&scanner))
                        } else {
                            entries.append(try WireEntry.read(&scanner))
                        }
                    }
                    compactShapes += compactEntries.count
                    expandedShapes += entries.count
                    if !compactEntries.isEmpty { wire.compact.fields.append(CompactParts.Field(name: name, entries: compactEntries)) }
                    if !entries.isEmpty || compactEntries.isEmpty { wire.fields.append(WireField(name: name, entries: entries)) }
                }
            case "tags":
                try scanner.object { scanner, tag throws(JSONScanner.Failure) in
                    var dots: [WireDot] = []
                    var compactDots: [CompactParts.TagAdd] = []
                    try scanner.array { scanner throws(JSONScanner.Failure) in
                        let dot = try WireDot.read(&scanner)
                        switch dot.replica {
                        case .name(let replica): dots.append(WireDot(replica: replica, counter: dot.counter))
                        case .index(let index): compactDots.append(CompactParts.TagAdd(replica: index, counter: dot.counter))
                        }
                    }
                    compactShapes += compactDots.count
                    expandedShapes += dots.count
                    if !compactDots.isEmpty { wire.compact.tags.append(CompactParts.Tag(tag: tag, adds: compactDots)) }
                    if !dots.isEmpty || compactDots.isEmpty { wire.tags.append(WireTag(tag: tag, dots: dots)) }
                }
            case "deletion":
                try scanner.array { scanner throws(JSONScanner.Failure) in
                    if scanner.peek() == UInt8(ascii: "[") {
                        compactShapes += 1
                        wire.compact.deletion.append(try readCompactDeletion(&scanner))
                    } else {
                        expandedShapes += 1
                        wire.deletion.append(try WireDeletion.read(&scanner))
                    }
                }
            default:
                throw scanner.failure(
                    "unknown key '\(key)' in record state; expected id, kind, clock, fields, tags, deletion (and v, replicas, writes in the compact form)")
            }
        }
        if let version = wire.compact.version {
            guard version == 2 else {
                throw JSONScanner.Failure(offset: start, message: "record state format v\(version) is not known; this version of cx reads v2 and the expanded form")
            }
            guard expandedShapes == 0 else {
                throw JSONScanner.Failure(offset: start, message: "a compact state (\"v\":2) holds a part in the expanded form")
            }
            for required in ["id", "kind", "replicas", "clock", "writes", "fields"] where !seen.contains(required) {
                throw JSONScanner.Failure(offset: start, message: "record state is missing '\(required)'")
            }
        } else {
            guard compactShapes == 0 else {
                throw JSONScanner.Failure(offset: start, message: "a state with compact parts (replicas, writes, entries as arrays) needs \"v\":2")
            }
            for required in ["id", "kind", "clock", "fields"] where !seen.contains(required) {
                throw JSONScanner.Failure(offset: start, message: "record state is missing '\(required)'")
            }
        }
        return wire
    }

    static func readClock(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> [WireCounter] {
        var clock: [WireCounter] = []
        try scanner.object { scanner, replica throws(JSONScanner.Failure) in
            clock.append(WireCounter(replica: replica, counter: try scanner.integer()))
        }
        return clock
    }

    /// `[replica, at, user]`.
    private static func readCompactWrite(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> CompactParts.Write {
        var replica: Int64?, at: Int64?, user: String?, count = 0
        try scanner.array { scanner throws(JSONScanner.Failure) in
            switch count {
            case 0: replica = try scanner.integer()
            case 1: at = try scanner.integer()
            case 2: user = try scanner.consumeNull() ? nil : try scanner.string()
            default: throw scanner.failure("a write is [replica, at, user] with exactly three elements")
            }
            count += 1
        }
        guard count == 3, let replica, let at else { throw scanner.failure("a write is [replica, at, user] with exactly three elements") }
        return CompactParts.Write(replica: replica, at: at, user: user)
    }

    /// `[value, write, counter]`.
    private static func readCompactEntry(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> CompactParts.Entry {
        var value: String?, write: Int64?, counter: Int64?, count = 0
        try scanner.array { scanner throws(JSONScanner.Failure) in
            switch count {
            case 0: value = try scanner.consumeNull() ? nil : try scanner.string()
            case 1: write = try scanner.integer()
            case 2: counter = try scanner.integer()
            default: throw scanner.failure("a field entry is [value, write, counter] with exactly three elements")
            }
            count += 1
        }
        guard count == 3, let write, let counter else { throw scanner.failure("a field entry is [value, write, counter] with exactly three elements") }
        return CompactParts.Entry(value: value, write: write, counter: counter)
    }

    /// `[deleted, seen, write, counter]`.
    private static func readCompactDeletion(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> CompactParts.Deletion {
        var deleted: Bool?, seen: [WireCounter]?, write: Int64?, counter: Int64?, count = 0
        try scanner.array { scanner throws(JSONScanner.Failure) in
            switch count {
            case 0: deleted = try scanner.bool()
            case 1: seen = try readClock(&scanner)
            case 2: write = try scanner.integer()
            case 3: counter = try scanner.integer()
            default: throw scanner.failure("a deletion entry is [deleted, seen, write, counter] with exactly four elements")
            }
            count += 1
        }
        guard count == 4, let deleted, let seen, let write, let counter else {
            throw scanner.failure("a deletion entry is [deleted, seen, write, counter] with exactly four elements")
        }
        return CompactParts.Deletion(deleted: deleted, seen: seen, write: write, counter: counter)
    }
}

/// A clock entry as read: a replica and its counter.
struct WireCounter {
    var replica: String
    var counter: Int64
}

/// A field's register as read: its name and entries.
struct WireField {
    var name: String
    var entries: [WireEntry]
}

/// A tag's adds as read.
struct WireTag {
    var tag: String
    var dots: [WireDot]
}

/// The top-level keys of a state that were read: a bit each, as a `Set<String>` cost hashing
/// every key of every state.
private struct WireParts {
    private static let names = ["id", "kind", "v", "replicas", "writes", "clock", "fields", "tags", "deletion"]
    private var bits: UInt16 = 0

    /// Records `key`; other keys (refused by the reader) are not recorded.
    mutating func insert(_ key: String) {
        if let index = Self.names.firstIndex(of: key) { bits |= 1 << index }
    }

    func contains(_ key: String) -> Bool {
        guard let index = Self.names.firstIndex(of: key) else { return false }
        return bits & (1 << index) != 0
    }
}

/// A write's time: text in the expanded form, milliseconds since the epoch in the compact one.
enum WireTime {
    case text(String)
    case milliseconds(Int64)
}

/// A dot written as `["replica", counter]` (or `[replica index, counter]` for a compact tag add).
struct WireDot {
    var replica: String
    var counter: Int64

    enum Replica {
        case name(String)
        case index(Int64)
    }

    /// Reads a dot whose replica is a name or (compact tag adds) an index.
    static func read(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> (replica: Replica, counter: Int64) {
        var replica: Replica?, counter: Int64?
        var count = 0
        try scanner.array { scanner throws(JSONScanner.Failure) in
            switch count {
            case 0: replica = scanner.peek() == UInt8(ascii: "\"") ? .name(try scanner.string()) : .index(try scanner.integer())
            case 1: counter = try scanner.integer()
            default: throw scanner.failure("a dot is [replica, counter] with exactly two elements")
            }
            count += 1
        }
        guard let replica, let counter else {
            throw scanner.failure("a dot is [replica, counter] with exactly two elements")
        }
        return (replica, counter)
    }

    /// Reads an expanded dot: the replica must be a name.
    static func readNamed(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> WireDot {
        let dot = try read(&scanner)
        guard case .name(let replica) = dot.replica else { throw scanner.failure("a dot's replica is a string") }
        return WireDot(replica: replica, counter: dot.counter)
    }
}

/// A field register entry.
struct WireEntry {
    var value: String?
    var dot: WireDot
    var at: WireTime
    var user: String?

    static func read(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> WireEntry {
        var value: String?, hasValue = false, dot: WireDot?, at: String?, user: String?
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "value":
                hasValue = true
                value = try scanner.consumeNull() ? nil : try scanner.string()
            case "dot": dot = try WireDot.readNamed(&scanner)
            case "at": at = try scanner.string()
            case "user": user = try scanner.consumeNull() ? nil : try scanner.string()
            default: throw scanner.failure("unknown key '\(key)' in field entry; expected value, dot, at, user")
            }
        }
        guard hasValue, let dot, let at else { throw scanner.failure("a field entry needs value, dot and at") }
        return WireEntry(value: value, dot: dot, at: .text(at), user: user)
    }
}

/// A deletion register entry (tombstone or restore).
struct WireDeletion {
    var deleted: Bool
    var seen: [WireCounter]
    var dot: WireDot
    var at: WireTime
    var user: String?

    static func read(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> WireDeletion {
        var deleted: Bool?, seen: [WireCounter]?, dot: WireDot?, at: String?, user: String?
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "deleted": deleted = try scanner.bool()
            case "seen": seen = try WireState.readClock(&scanner)
            case "dot": dot = try WireDot.readNamed(&scanner)
            case "at": at = try scanner.string()
            case "user": user = try scanner.consumeNull() ? nil : try scanner.string()
            default: throw scanner.failure("unknown key '\(key)' in deletion entry; expected deleted, seen, dot, at, user")
            }
        }
        guard let deleted, let seen, let dot, let at else {
            throw scanner.failure("a deletion entry needs deleted, seen, dot and at")
        }
        return WireDeletion(deleted: deleted, seen: seen, dot: dot, at: .text(at), user: user)
    }
}
