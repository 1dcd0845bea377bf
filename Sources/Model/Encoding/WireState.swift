/// The JSON shape of a record state, read but not yet checked; ``RecordState/init(wire:)``
/// checks the meaning. Maps are kept as key/value lists in document order (duplicates are
/// caught when the state is built).
struct WireState {
    var id = ""
    var kind = ""
    var clock: [(String, Int64)] = []
    var fields: [(String, [WireEntry])] = []
    var tags: [(String, [WireDot])] = []
    var deletion: [WireDeletion] = []

    /// Reads one state object. Unknown keys are refused, so a typo in a hand-made state is
    /// reported instead of silently ignored.
    static func read(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> WireState {
        var wire = WireState()
        var seen: Set<String> = []
        let start = scanner.offset
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            guard seen.insert(key).inserted else { throw scanner.failure("duplicate key '\(key)'") }
            switch key {
            case "id": wire.id = try scanner.string()
            case "kind": wire.kind = try scanner.string()
            case "clock": wire.clock = try readClock(&scanner)
            case "fields":
                try scanner.object { scanner, name throws(JSONScanner.Failure) in
                    var entries: [WireEntry] = []
                    try scanner.array { scanner throws(JSONScanner.Failure) in entries.append(try WireEntry.read(&scanner)) }
                    wire.fields.append((name, entries))
                }
            case "tags":
                try scanner.object { scanner, tag throws(JSONScanner.Failure) in
                    var dots: [WireDot] = []
                    try scanner.array { scanner throws(JSONScanner.Failure) in dots.append(try WireDot.read(&scanner)) }
                    wire.tags.append((tag, dots))
                }
            case "deletion":
                try scanner.array { scanner throws(JSONScanner.Failure) in wire.deletion.append(try WireDeletion.read(&scanner)) }
            default:
                throw scanner.failure("unknown key '\(key)' in record state; expected id, kind, clock, fields, tags, deletion")
            }
        }
        for required in ["id", "kind", "clock", "fields"] where !seen.contains(required) {
            throw JSONScanner.Failure(offset: start, message: "record state is missing '\(required)'")
        }
        return wire
    }

    static func readClock(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> [(String, Int64)] {
        var clock: [(String, Int64)] = []
        try scanner.object { scanner, replica throws(JSONScanner.Failure) in
            clock.append((replica, try scanner.integer()))
        }
        return clock
    }
}

/// A dot written as `["replica", counter]`.
struct WireDot {
    var replica: String
    var counter: Int64

    static func read(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> WireDot {
        var replica: String?, counter: Int64?
        var count = 0
        try scanner.array { scanner throws(JSONScanner.Failure) in
            switch count {
            case 0: replica = try scanner.string()
            case 1: counter = try scanner.integer()
            default: throw scanner.failure("a dot is [replica, counter] with exactly two elements")
            }
            count += 1
        }
        guard let replica, let counter else {
            throw scanner.failure("a dot is [replica, counter] with exactly two elements")
        }
        return WireDot(replica: replica, counter: counter)
    }
}

/// A field register entry.
struct WireEntry {
    var value: String?
    var dot: WireDot
    var at: String
    var user: String?

    static func read(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> WireEntry {
        var value: String?, hasValue = false, dot: WireDot?, at: String?, user: String?
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "value":
                hasValue = true
                value = try scanner.consumeNull() ? nil : try scanner.string()
            case "dot": dot = try WireDot.read(&scanner)
            case "at": at = try scanner.string()
            case "user": user = try scanner.consumeNull() ? nil : try scanner.string()
            default: throw scanner.failure("unknown key '\(key)' in field entry; expected value, dot, at, user")
            }
        }
        guard hasValue, let dot, let at else { throw scanner.failure("a field entry needs value, dot and at") }
        return WireEntry(value: value, dot: dot, at: at, user: user)
    }
}

/// A deletion register entry (tombstone or restore).
struct WireDeletion {
    var deleted: Bool
    var seen: [(String, Int64)]
    var dot: WireDot
    var at: String
    var user: String?

    static func read(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> WireDeletion {
        var deleted: Bool?, seen: [(String, Int64)]?, dot: WireDot?, at: String?, user: String?
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "deleted": deleted = try scanner.bool()
            case "seen": seen = try WireState.readClock(&scanner)
            case "dot": dot = try WireDot.read(&scanner)
            case "at": at = try scanner.string()
            case "user": user = try scanner.consumeNull() ? nil : try scanner.string()
            default: throw scanner.failure("unknown key '\(key)' in deletion entry; expected deleted, seen, dot, at, user")
            }
        }
        guard let deleted, let seen, let dot, let at else {
            throw scanner.failure("a deletion entry needs deleted, seen, dot and at")
        }
        return WireDeletion(deleted: deleted, seen: seen, dot: dot, at: at, user: user)
    }
}
