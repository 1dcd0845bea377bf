extension PostgresPool {
    /// A snapshot of the pool's counts, for metrics and tests.
    public struct Statistics: Sendable, Hashable, CustomStringConvertible {
        /// Connections that exist or are being opened (idle plus in use).
        public var open: Int
        /// Connections (or slots being connected) currently lent to callers.
        public var inUse: Int
        /// Callers waiting because every connection is in use.
        public var waiting: Int

        /// Creates a snapshot.
        public init(open: Int, inUse: Int, waiting: Int) {
            self.open = open
            self.inUse = inUse
            self.waiting = waiting
        }

        /// `open=… inUse=… waiting=…`.
        public var description: String { "open=\(open) inUse=\(inUse) waiting=\(waiting)" }
    }
}
