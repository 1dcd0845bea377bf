/// The type of a field's value, which decides how a value is checked and normalised.
public enum FieldType: Hashable, Sendable {
    /// Free text (up to `Schema.maximumTextLength` characters).
    case text
    /// Free text that must not be empty.
    case requiredText
    /// An email address of the shape `local@domain.tld`.
    case email
    /// A record id (UUID), stored lowercase.
    case recordID
    /// A calendar date `YYYY-MM-DD`.
    case date
    /// A money amount: decimal, at most 2 places, stored with exactly 2. Zero is a zero-value
    /// order; a negative amount is a credit note, allowed only on a purchase that credits
    /// another (``RecordState/validateCreditNote()``).
    case amount
    /// A gross-margin fraction in [-1, 1], e.g. `0.12`.
    case fraction
    /// An integer score 0–10.
    case score
    /// One of a fixed set of words.
    case oneOf([String])
}
