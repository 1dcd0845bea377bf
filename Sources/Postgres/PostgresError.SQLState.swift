extension PostgresError {
    /// Common SQLSTATE values, so callers need not repeat magic strings.
    public enum SQLState {
        /// `unique_violation`.
        public static let uniqueViolation = "23505"
        /// `foreign_key_violation`.
        public static let foreignKeyViolation = "23503"
        /// `not_null_violation`.
        public static let notNullViolation = "23502"
        /// `check_violation`.
        public static let checkViolation = "23514"
        /// `serialization_failure`: retry the transaction.
        public static let serializationFailure = "40001"
        /// `deadlock_detected`: retry the transaction.
        public static let deadlockDetected = "40P01"
        /// `syntax_error`.
        public static let syntaxError = "42601"
        /// `undefined_table`.
        public static let undefinedTable = "42P01"
        /// `admin_shutdown`: the backend was terminated (e.g. `pg_terminate_backend`).
        public static let adminShutdown = "57P01"
    }
}
