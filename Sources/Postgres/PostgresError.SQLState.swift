extension PostgresError {
    /// A SQLSTATE code reported by PostgreSQL: five characters, the first two naming the class
    /// (`08` connection exception, `23` integrity constraint violation, `57` operator
    /// intervention, …). Typed so callers compare against named codes instead of magic strings;
    /// a string literal still reads as a code (`"23505"`), for codes not named here.
    public struct SQLState: RawRepresentable, Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
        /// The five-character code, e.g. `23505`.
        public let rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public init(stringLiteral value: String) {
            self.rawValue = value
        }

        /// The class: the code's first two characters (`08` for every connection exception).
        public var errorClass: Substring { rawValue.prefix(2) }

        public var description: String { rawValue }

        /// `unique_violation`.
        public static let uniqueViolation: Self = "23505"
        /// `foreign_key_violation`.
        public static let foreignKeyViolation: Self = "23503"
        /// `not_null_violation`.
        public static let notNullViolation: Self = "23502"
        /// `check_violation`.
        public static let checkViolation: Self = "23514"
        /// `invalid_text_representation`: a value that does not parse as the column's type.
        public static let invalidTextRepresentation: Self = "22P02"
        /// `serialization_failure`: retry the transaction.
        public static let serializationFailure: Self = "40001"
        /// `deadlock_detected`: retry the transaction.
        public static let deadlockDetected: Self = "40P01"
        /// `syntax_error`.
        public static let syntaxError: Self = "42601"
        /// `undefined_table`.
        public static let undefinedTable: Self = "42P01"
        /// `duplicate_database`.
        public static let duplicateDatabase: Self = "42P04"
        /// `admin_shutdown`: the backend was terminated (e.g. `pg_terminate_backend`).
        public static let adminShutdown: Self = "57P01"
        /// `crash_shutdown`: the server crashed and is restarting.
        public static let crashShutdown: Self = "57P02"
        /// `cannot_connect_now`: the server is starting up or shutting down.
        public static let cannotConnectNow: Self = "57P03"

        /// Whether the code means the connection is unusable: class `08` (connection
        /// exception) or the server terminating this backend or refusing connections for now.
        public var meansConnectionUnusable: Bool {
            errorClass == "08" || [Self.adminShutdown, .crashShutdown, .cannotConnectNow].contains(self)
        }
    }
}
