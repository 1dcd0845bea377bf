/// A record state that could not be read: malformed JSON, a missing or unknown key, or a state
/// that breaks the model's invariants (negative counters, dots the clock has not seen, unknown
/// kinds or fields, invalid values).
public struct StateDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The record id, when it could be read.
    public let recordID: String?
    /// What is wrong, in words meant for the person who has to fix the sender.
    public let message: String

    /// Creates a decoding error.
    public init(recordID: String?, _ message: String) {
        self.recordID = recordID
        self.message = message
    }

    public var description: String {
        if let recordID { return "invalid record state \(recordID): \(message)" }
        return "invalid record state: \(message)"
    }
}
