/// A SQL statement whose interpolated values are bind parameters, never SQL text.
///
/// ```swift
/// let name = "O'Brien'; DROP TABLE customers; --"
/// try connection.query("SELECT id FROM customers WHERE name = \(name) AND age > \(30)")
/// // sent as: SELECT id FROM customers WHERE name = $1 AND age > $2, binds ["O'Brien'; …", "30"]
/// ```
///
/// Every `\(value)` becomes the next `$n` placeholder and its value travels separately
/// (text format), so SQL injection through interpolation is impossible by construction.
/// Values must conform to ``PostgresBindable``; `nil` optionals become SQL `NULL`.
/// There is deliberately no way to interpolate raw SQL.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text with `$1`, `$2`, … placeholders.
    public var sql: String
    /// The parameter values in placeholder order; `nil` is SQL `NULL`.
    public var binds: [String?]

    /// Creates a query from SQL that is already written with `$n` placeholders.
    ///
    /// "Unsafe" because `unsafeSQL` is sent as SQL text: it must come from the program, never from
    /// user input. Values still go in `binds`. Use it to build statements programmatically,
    /// e.g. a multi-row `INSERT … VALUES ($1, $2), ($3, $4)`.
    /// - Parameters:
    ///   - unsafeSQL: Trusted SQL with `$1`…`$n` placeholders.
    ///   - binds: The values for the placeholders; `nil` is SQL `NULL`.
    public init(unsafeSQL: String, binds: [String?] = []) {
        self.sql = unsafeSQL
        self.binds = binds
    }

    /// Creates a query without parameters from a string literal (literals are written by the programmer).
    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    /// Creates a query from an interpolation; see ``Interpolation``.
    public init(stringInterpolation: Interpolation) {
        self.init(unsafeSQL: stringInterpolation.sql, binds: stringInterpolation.binds)
    }

    /// The SQL followed by the number of parameters; values are left out because they may be secret.
    public var description: String {
        binds.isEmpty ? sql : "\(sql) [\(binds.count) parameter(s)]"
    }

    /// Collects literal SQL segments and turns each interpolated value into a `$n` placeholder.
    public struct Interpolation: StringInterpolationProtocol, Sendable {
        /// The SQL collected so far.
        public private(set) var sql: String
        /// The parameter values collected so far.
        public private(set) var binds: [String?]

        /// Reserves space for the literal text and the expected number of parameters.
        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds = []
            binds.reserveCapacity(interpolationCount)
        }

        /// Appends SQL written literally in the source code.
        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Appends a bind parameter: the value goes to `binds` and `$n` to the SQL.
        public mutating func appendInterpolation(_ value: some PostgresBindable) {
            binds.append(value.postgresText)
            sql += "$\(binds.count)"
        }

        /// Appends an optional bind parameter: `nil` is SQL `NULL`.
        ///
        /// A separate overload so optionals are taken as optionals (no "debug description" warning).
        public mutating func appendInterpolation<Value: PostgresBindable>(_ value: Value?) {
            binds.append(value?.postgresText ?? nil)
            sql += "$\(binds.count)"
        }
    }
}
