import CXModel

/// The user-facing shape of a record (`cx show --json`):
/// `{"id","kind","fields":{name: displayed value},"tags":[…],"deleted":bool,
///   "conflicts":[{"field","candidates":[{"value","replica","user","at"}]}]}`.
///
/// The cache stores this JSON precomputed for every customer, so `show` and `list` print it
/// without decoding full states. ``RecordView/init(jsonBytes:)`` reads it back for human output.
public struct RecordView: Sendable, Equatable {
    public struct Candidate: Sendable, Equatable {
        public var value: String?
        public var replica: String
        public var user: String?
        public var at: String
    }

    public struct Conflict: Sendable, Equatable {
        public var field: String
        public var candidates: [Candidate]
    }

    public var id: String
    public var kind: RecordKind
    /// Displayed values, sorted by field name.
    public var fields: [(name: String, value: String)]
    public var tags: [String]
    public var deleted: Bool
    public var conflicts: [Conflict]

    public static func == (a: RecordView, b: RecordView) -> Bool {
        a.id == b.id && a.kind == b.kind && a.fields.map(\.name) == b.fields.map(\.name)
            && a.fields.map(\.value) == b.fields.map(\.value) && a.tags == b.tags && a.deleted == b.deleted
            && a.conflicts == b.conflicts
    }

    /// The displayed value of `field`.
    public func value(_ field: String) -> String? {
        fields.first(where: { $0.name == field })?.value
    }

    /// The view of a state.
    public init(_ state: RecordState) {
        id = state.id
        kind = state.kind
        fields = state.displayedFields
        tags = state.tagNames
        deleted = state.isDeleted
        conflicts = state.conflicts.map { conflict in
            Conflict(field: conflict.field, candidates: conflict.candidates.map {
                Candidate(value: $0.value, replica: $0.replica, user: $0.user, at: $0.at.description)
            })
        }
    }

    /// The canonical JSON of a state's view (one line, keys in contract order).
    public static func jsonBytes(_ state: RecordState) -> [UInt8] {
        var w = JSONWriter(capacity: 512)
        encode(state, into: &w)
        return w.bytes
    }

    /// Appends the view JSON of `state` to `w`.
    public static func encode(_ state: RecordState, into w: inout JSONWriter) {
        RecordView(state).encode(into: &w)
    }

    /// Appends this view's JSON to `w`.
    public func encode(into w: inout JSONWriter) {
        w.raw("{\"id\":")
        w.string(id)
        w.raw(",\"kind\":")
        w.string(kind.rawValue)
        w.raw(",\"fields\":{")
        for (index, field) in fields.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(field.name)
            w.byte(UInt8(ascii: ":"))
            w.string(field.value)
        }
        w.raw("},\"tags\":[")
        for (index, tag) in tags.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(tag)
        }
        w.raw("],\"deleted\":")
        w.bool(deleted)
        w.raw(",\"conflicts\":")
        Self.encode(conflicts, into: &w)
        w.byte(UInt8(ascii: "}"))
    }

    static func encode(_ conflicts: [Conflict], into w: inout JSONWriter) {
        w.byte(UInt8(ascii: "["))
        for (index, conflict) in conflicts.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.raw("{\"field\":")
            w.string(conflict.field)
            w.raw(",\"candidates\":")
            encode(conflict.candidates, into: &w)
            w.byte(UInt8(ascii: "}"))
        }
        w.byte(UInt8(ascii: "]"))
    }

    static func encode(_ candidates: [Candidate], into w: inout JSONWriter) {
        w.byte(UInt8(ascii: "["))
        for (index, candidate) in candidates.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.raw("{\"value\":")
            w.optionalString(candidate.value)
            w.raw(",\"replica\":")
            w.string(candidate.replica)
            w.raw(",\"user\":")
            w.optionalString(candidate.user)
            w.raw(",\"at\":")
            w.string(candidate.at)
            w.byte(UInt8(ascii: "}"))
        }
        w.byte(UInt8(ascii: "]"))
    }

    /// Reads a view back from its JSON.
    public init(jsonBytes: some Collection<UInt8>) throws(JSONScanner.Failure) {
        var id = "", kind = RecordKind.customer, deleted = false
        var fields: [(name: String, value: String)] = []
        var tags: [String] = []
        var conflicts: [Conflict] = []
        try JSONScanner.scan(jsonBytes) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                switch key {
                case "id": id = try scanner.string()
                case "kind":
                    let text = try scanner.string()
                    guard let parsed = RecordKind(rawValue: text) else { throw scanner.failure("unknown kind") }
                    kind = parsed
                case "fields":
                    try scanner.object { scanner, name throws(JSONScanner.Failure) in
                        fields.append((name, try scanner.string()))
                    }
                case "tags":
                    try scanner.array { scanner throws(JSONScanner.Failure) in tags.append(try scanner.string()) }
                case "deleted": deleted = try scanner.bool()
                case "conflicts":
                    try scanner.array { scanner throws(JSONScanner.Failure) in
                        var conflict = Conflict(field: "", candidates: [])
                        try scanner.object { scanner, key throws(JSONScanner.Failure) in
                            switch key {
                            case "field": conflict.field = try scanner.string()
                            case "candidates":
                                try scanner.array { scanner throws(JSONScanner.Failure) in
                                    var candidate = Candidate(value: nil, replica: "", user: nil, at: "")
                                    try scanner.object { scanner, key throws(JSONScanner.Failure) in
                                        switch key {
                                        case "value": candidate.value = try scanner.consumeNull() ? nil : scanner.string()
                                        case "replica": candidate.replica = try scanner.string()
                                        case "user": candidate.user = try scanner.consumeNull() ? nil : scanner.string()
                                        case "at": candidate.at = try scanner.string()
                                        default: try scanner.skipValue()
                                        }
                                    }
                                    conflict.candidates.append(candidate)
                                }
                            default: try scanner.skipValue()
                            }
                        }
                        conflicts.append(conflict)
                    }
                default: try scanner.skipValue()
                }
            }
            try scanner.expectEnd()
        }
        self.id = id
        self.kind = kind
        self.fields = fields
        self.tags = tags
        self.deleted = deleted
        self.conflicts = conflicts
    }
}

extension RecordView {
    /// The order activities are listed and exported in: oldest first (`on`), then by id.
    static func isActivityBefore(_ a: RecordView, _ b: RecordView) -> Bool {
        let x = a.value("on") ?? "", y = b.value("on") ?? ""
        return x != y ? x < y : a.id < b.id
    }
}
