/// A pushed record the server did not write, as the sync response's `rejected` lists it:
/// `{"id","code","message"}` (codes in docs/sync-protocol.md §4 and §4a).
public struct RecordRejection: Sendable, Hashable {
    public var id: String
    /// Stable machine-readable reason, e.g. `out_of_scope`.
    public var code: String
    /// What happened and what to do, for people.
    public var message: String

    public init(id: String, code: String, message: String) {
        self.id = id
        self.code = code
        self.message = message
    }

    /// Writes `{"id":…,"code":…,"message":…}`.
    public func encode(into w: inout JSONWriter) {
        w.raw("{\"id\":")
        w.string(id)
        w.raw(",\"code\":")
        w.string(code)
        w.raw(",\"message\":")
        w.string(message)
        w.byte(UInt8(ascii: "}"))
    }

    /// Reads `{"id","code","message"}`; other keys are skipped.
    public init(reading scanner: inout JSONScanner) throws(JSONScanner.Failure) {
        var rejection = RecordRejection(id: "", code: "", message: "")
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "id": rejection.id = try scanner.string()
            case "code": rejection.code = try scanner.string()
            case "message": rejection.message = try scanner.string()
            default: try scanner.skipValue()
            }
        }
        self = rejection
    }
}
