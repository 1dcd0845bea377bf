/// A value, field name or record that breaks the rules of the data model.
///
/// The message names the problem and the accepted form, so it can be shown to a user as is.
/// (Named apart from ArgumentParser's `ValidationError`, which the commands use for usage errors.)
public struct RecordValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The field concerned, when the problem is one field's.
    public let field: String?
    /// What is wrong and what is accepted instead.
    public let message: String

    /// Creates a validation error.
    public init(field: String?, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String {
        if let field { return "\(field): \(message)" }
        return message
    }
}
