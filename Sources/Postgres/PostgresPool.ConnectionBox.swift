extension PostgresPool {
    /// Carries a ``PostgresConnection`` (not `Sendable`) between the pool's threads.
    ///
    /// `@unchecked Sendable` is sound because ownership is exclusive and handed over under the pool's
    /// lock: a box is either in the idle list (touched only with the lock held, and never used there)
    /// or leased to exactly one work item, which uses the connection on one pool thread and gives it
    /// back under the lock before another lease can take it. The lock's acquire/release orders the
    /// previous owner's writes before the next owner's reads, so no two threads ever use the
    /// connection at the same time or see it half-updated.
    final class ConnectionBox: @unchecked Sendable {
        let connection: PostgresConnection

        init(_ connection: PostgresConnection) {
            self.connection = connection
        }
    }
}
