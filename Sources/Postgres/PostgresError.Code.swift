extension PostgresError {
    /// The broad category of a ``PostgresError``.
    ///
    /// A struct with static members rather than an enum so new categories can be added without
    /// breaking `switch` statements in other modules.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The category's stable name, e.g. `"connectionFailed"`.
        public let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// Opening a connection failed (bad connection string, server down, authentication).
        public static let connectionFailed = Code("connectionFailed")
        /// An open connection broke (server restart, terminated backend, network failure); the connection is unusable.
        public static let connectionLost = Code("connectionLost")
        /// The server rejected a statement (syntax, constraint violation, …); `sqlState` says which.
        public static let queryFailed = Code("queryFailed")
        /// A column's value could not be decoded into the requested Swift type.
        public static let decodingFailed = Code("decodingFailed")
        /// The ``PostgresPool`` was closed.
        public static let poolClosed = Code("poolClosed")
        /// Managing the embedded PostgreSQL cluster (initdb, pg_ctl, directories) failed.
        public static let clusterFailed = Code("clusterFailed")

        /// The category's name.
        public var description: String { name }
    }
}
