/// A pushed record the server did not write, as the sync response's `rejected` lists it:
/// `{"id","code","message"}` (codes in docs/sync-protocol.md §4 and §4a).
public struct RecordRejection: Sendable, Hashable {
    public var id: String
    /// Stable machine-readable reason, e.g. ``Code/outOfScope``.
    public var code: Code
    /// What happened and what to do, for people.
    public var message: String
    /// For `foreign_clock`: the clock the server holds for the record (empty when it holds
    /// none), so the client can re-base its state on it
    /// (``RecordState/rebased(knowingOfOthersAtMost:own:)``). Sent as `"stored_clock"`.
    public var storedClock: VersionVector?

    public init(id: String, code: Code, message: String, storedClock: VersionVector? = nil) {
        self.id = id
        self.code = code
        self.message = message
        self.storedClock = storedClock
    }

    /// Writes `{"id":…,"code":…,"message":…}`.
    public func encode(into w: inout JSONWriter) {
        w.raw("{\"id\":")
        w.string(id)
        w.raw(",\"code\":")
        w.string(code.rawValue)
        w.raw(",\"message\":")
        w.string(message)
        if let storedClock {
            w.raw(",\"stored_clock\":")
            storedClock.encode(into: &w)
        }
        w.byte(UInt8(ascii: "}"))
    }

    /// Reads `{"id","code","message"}` and `stored_clock` when present; other keys are skipped,
    /// and a code this build does not know is kept as it came.
    public init(reading scanner: inout JSONScanner) throws(JSONScanner.Failure) {
        var rejection = RecordRejection(id: "", code: Code(rawValue: ""), message: "")
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "id": rejection.id = try scanner.string()
            case "code": rejection.code = Code(rawValue: try scanner.string())
            case "message": rejection.message = try scanner.string()
            case "stored_clock":
                var counters: [String: UInt64] = [:]
                try scanner.object { scanner, replica throws(JSONScanner.Failure) in
                    let counter = try scanner.integer()
                    guard counter >= 0 else { throw scanner.failure("counter \(counter) is negative") }
                    counters[replica] = UInt64(counter)
                }
                rejection.storedClock = VersionVector(counters)
            default: try scanner.skipValue()
            }
        }
        self = rejection
    }
}
