/// A record state that could not be read: malformed JSON, a missing or unknown key, or a state
/// that breaks the model's invariants (negative counters, dots the clock has not seen, unknown
/// kinds or fields, invalid values).
public struct StateDecodingError: Error, Sendable, CustomStringConvertible {
    /// The kind of problem, stable for machines: the sync response's rejection code
    /// (``RecordRejection/Code/invalidRecord`` or ``RecordRejection/Code/tooManyEntries``).
    public typealias Code = RecordRejection.Code

    /// The record id, when it could be read (a malformed id is given as sent, shortened).
    public let recordID: String?
    /// The kind of problem.
    public let code: Code
    /// What is wrong, in words meant for the person who has to fix the sender.
    public let message: String

    /// The JSON syntax error behind this error, when the bytes were not valid JSON of the
    /// expected shape (as opposed to a well-formed state that breaks an invariant).
    public let syntaxError: JSONScanner.Failure?

    /// Creates a decoding error.
    public init(recordID: String?, _ message: String, code: Code = .invalidRecord, syntaxError: JSONScanner.Failure? = nil) {
        self.recordID = recordID
        self.code = code
        self.message = message
        self.syntaxError = syntaxError
    }

    public var description: String {
        if let recordID { return "invalid record state \(recordID): \(message)" }
        return "invalid record state: \(message)"
    }
}
