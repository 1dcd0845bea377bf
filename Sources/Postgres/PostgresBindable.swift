import Foundation

/// A value that can be sent to PostgreSQL as a bind parameter (`$1`, `$2`, …) in text format.
///
/// Conform your own types (identifiers, enums, timestamps of the model) so they can be interpolated
/// into a ``PostgresQuery``. The text must be what the server's input function for the target column
/// type accepts; it is never spliced into the SQL, so it needs no quoting or escaping.
public protocol PostgresBindable {
    /// The parameter's text representation, or `nil` for SQL `NULL`.
    var postgresText: String? { get }
}

extension String: PostgresBindable {
    /// The string itself.
    public var postgresText: String? { self }
}

extension Substring: PostgresBindable {
    /// The substring as a string.
    public var postgresText: String? { String(self) }
}

extension Int: PostgresBindable {
    /// Decimal digits.
    public var postgresText: String? { String(self) }
}

extension Int64: PostgresBindable {
    /// Decimal digits.
    public var postgresText: String? { String(self) }
}

extension Int32: PostgresBindable {
    /// Decimal digits.
    public var postgresText: String? { String(self) }
}

extension Int16: PostgresBindable {
    /// Decimal digits.
    public var postgresText: String? { String(self) }
}

extension Double: PostgresBindable {
    /// Shortest round-tripping decimal; non-finite values use PostgreSQL's spellings.
    public var postgresText: String? {
        // Swift spells these "inf"/"nan"; use the spellings float8in documents.
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return description
    }
}

extension Bool: PostgresBindable {
    /// `true` or `false`.
    public var postgresText: String? { self ? "true" : "false" }
}

extension UUID: PostgresBindable {
    /// The canonical hyphenated form.
    public var postgresText: String? { uuidString }
}

extension Date: PostgresBindable {
    /// ISO 8601 in UTC with microseconds (PostgreSQL's timestamp precision), e.g. `2024-05-01 12:00:00.000001+00`.
    public var postgresText: String? { PostgresTimestamp.format(self) }
}

extension Array: PostgresBindable where Element == UInt8 {
    /// `bytea` in hex format: `\x` followed by two hex digits per byte.
    public var postgresText: String? { PostgresBytea.encode(self) }
}

extension Data: PostgresBindable {
    /// `bytea` in hex format: `\x` followed by two hex digits per byte.
    public var postgresText: String? { PostgresBytea.encode(self) }
}

extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    /// The wrapped value's text, or `nil` (SQL `NULL`) when empty.
    public var postgresText: String? {
        switch self {
        case .some(let value): value.postgresText
        case .none: nil
        }
    }
}
