/// The change history of one record, as `GET /v1/records/{id}/history` returns it:
/// `{"id","kind","entries":[{"seq","at","user","replica","operation","conflicts",
/// "fields":[{"field","from","to"}]}]}`, entries oldest first, `from`/`to` displayed values or null.
public struct RecordHistory: Sendable, Equatable {
    /// One field's displayed value before and after a change (`nil`: not set).
    public typealias FieldChange = CXModel.FieldChange

    /// One stored change: who wrote it, from which replica, when, and what it changed.
    public struct Entry: Sendable, Equatable {
        /// The server's change sequence number.
        public var seq: Int64
        /// When the server stored it (canonical timestamp text).
        public var at: String
        public var user: String?
        public var replica: String?
        /// `insert`, `update` or `delete` (others are shown as they come).
        public var operation: String
        /// Whether the record had a conflict after this change.
        public var conflicts: Bool
        public var fields: [FieldChange]

        public init(
            seq: Int64, at: String, user: String?, replica: String?, operation: String, conflicts: Bool, fields: [FieldChange]
        ) {
            self.seq = seq
            self.at = at
            self.user = user
            self.replica = replica
            self.operation = operation
            self.conflicts = conflicts
            self.fields = fields
        }
    }

    public var id: String
    public var kind: String
    public var entries: [Entry]

    public init(id: String, kind: String, entries: [Entry]) {
        self.id = id
        self.kind = kind
        self.entries = entries
    }

    /// Parses the server's document (unknown keys are skipped; `from`/`to` numbers and
    /// booleans are kept as their JSON text).
    public init(parsing body: [UInt8]) throws(JSONScanner.Failure) {
        var id = "", kind = "", entries: [Entry] = []
        try JSONScanner.scan(body) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                switch key {
                case "id": id = try scanner.string()
                case "kind": kind = try scanner.string()
                case "entries":
                    try scanner.array { scanner throws(JSONScanner.Failure) in entries.append(try Self.entry(&scanner)) }
                default: try scanner.skipValue()
                }
            }
            try scanner.expectEnd()
            if id.isEmpty { throw scanner.failure("a history without an id") }
        }
        self.init(id: id, kind: kind, entries: entries)
    }

    private static func entry(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> Entry {
        var entry = Entry(seq: 0, at: "", user: nil, replica: nil, operation: "", conflicts: false, fields: [])
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "seq": entry.seq = try scanner.integer()
            case "at": entry.at = try scanner.string()
            case "user": entry.user = try scanner.optionalText()
            case "replica": entry.replica = try scanner.optionalText()
            case "operation": entry.operation = try scanner.string()
            case "conflicts": entry.conflicts = try scanner.bool()
            case "fields":
                try scanner.array { scanner throws(JSONScanner.Failure) in
                    entry.fields.append(try FieldChange(reading: &scanner))
                }
            default: try scanner.skipValue()
            }
        }
        return entry
    }

    /// The canonical document: the server's response and `cx history --json` alike.
    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"id\":")
        w.string(id)
        w.raw(",\"kind\":")
        w.string(kind)
        w.raw(",\"entries\":[")
        for (index, entry) in entries.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.raw("{\"seq\":")
            if entry.seq < 0 { w.byte(UInt8(ascii: "-")) }
            w.number(entry.seq.magnitude)
            w.raw(",\"at\":")
            w.string(entry.at)
            w.raw(",\"user\":")
            w.optionalString(entry.user)
            w.raw(",\"replica\":")
            w.optionalString(entry.replica)
            w.raw(",\"operation\":")
            w.string(entry.operation)
            w.raw(",\"conflicts\":")
            w.bool(entry.conflicts)
            w.raw(",\"fields\":[")
            for (fieldIndex, change) in entry.fields.enumerated() {
                if fieldIndex > 0 { w.byte(UInt8(ascii: ",")) }
                change.encode(into: &w)
            }
            w.raw("]}")
        }
        w.raw("]}")
        return w.bytes
    }
}
