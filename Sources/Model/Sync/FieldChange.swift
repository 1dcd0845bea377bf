/// One field's displayed value before and after a write, as the server's audit trail records it
/// and `GET /v1/records/{id}/history` reports it: `{"field","from","to"}`, `nil` for unset.
public struct FieldChange: Sendable, Hashable {
    /// A field name, `extra.<key>`, `tags` or `deleted`.
    public var field: String
    public var from: String?
    public var to: String?

    public init(field: String, from: String?, to: String?) {
        self.field = field
        self.from = from
        self.to = to
    }

    /// Writes `{"field":…,"from":…,"to":…}`.
    public func encode(into w: inout JSONWriter) {
        w.raw("{\"field\":")
        w.string(field)
        w.raw(",\"from\":")
        w.optionalString(from)
        w.raw(",\"to\":")
        w.optionalString(to)
        w.byte(UInt8(ascii: "}"))
    }

    /// Reads `{"field","from","to"}`; other keys are skipped, and a value that is neither a
    /// string nor null is kept as its JSON text.
    public init(reading scanner: inout JSONScanner) throws(JSONScanner.Failure) {
        var change = FieldChange(field: "", from: nil, to: nil)
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "field": change.field = try scanner.string()
            case "from": change.from = try scanner.optionalText()
            case "to": change.to = try scanner.optionalText()
            default: try scanner.skipValue()
            }
        }
        self = change
    }
}

extension JSONScanner {
    /// A string, `null` (`nil`), or any other value as its JSON text.
    public mutating func optionalText() throws(JSONScanner.Failure) -> String? {
        if try consumeNull() { return nil }
        if peek() == UInt8(ascii: "\"") { return try string() }
        return String(decoding: try rawValue(), as: UTF8.self)
    }
}
