import Foundation

/// A type that can be decoded from a column's text-format value.
///
/// Conform your own types to use them with `PostgresRow.decode(_:as:)`.
/// `NULL` never reaches the initializer: decoding `NULL` into a non-optional type is an error,
/// decoding it into an optional gives `nil`.
public protocol PostgresDecodable {
    /// Parses the server's text output for a column; `nil` if the text is not a valid value.
    init?(postgresText: String)
}

extension String: PostgresDecodable {
    /// Any text is a valid string.
    public init?(postgresText: String) { self = postgresText }
}

extension Int: PostgresDecodable {
    /// Decimal integer text (`int2`, `int4`, `int8`).
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
}

extension Int64: PostgresDecodable {
    /// Decimal integer text (`int2`, `int4`, `int8`).
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
}

extension Int32: PostgresDecodable {
    /// Decimal integer text (`int2`, `int4`).
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
}

extension Int16: PostgresDecodable {
    /// Decimal integer text (`int2`).
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
}

extension Double: PostgresDecodable {
    /// `float4`/`float8`/`numeric` text, including `NaN`, `Infinity` and `-Infinity`.
    public init?(postgresText: String) {
        switch postgresText {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default: self.init(postgresText)
        }
    }
}

extension Bool: PostgresDecodable {
    /// `t`/`f` (the server's output), also `true`/`false`.
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

extension UUID: PostgresDecodable {
    /// The hyphenated form the server prints for `uuid`.
    public init?(postgresText: String) { self.init(uuidString: postgresText) }
}

extension Date: PostgresDecodable {
    /// `timestamptz`/`timestamp` output with `DateStyle = ISO` (the default); no offset means UTC.
    public init?(postgresText: String) {
        guard let date = PostgresTimestamp.parse(postgresText) else { return nil }
        self = date
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    /// `bytea` output in hex format (`\x…`, the default `bytea_output`).
    public init?(postgresText: String) {
        guard let bytes = PostgresBytea.decode(postgresText) else { return nil }
        self = bytes
    }
}

extension Data: PostgresDecodable {
    /// `bytea` output in hex format (`\x…`, the default `bytea_output`).
    public init?(postgresText: String) {
        guard let bytes = PostgresBytea.decode(postgresText) else { return nil }
        self.init(bytes)
    }
}
