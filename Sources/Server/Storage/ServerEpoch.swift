import CXPostgres

/// Where the database's history stands: its epoch (see ``Migration0007ServerEpoch``) and the
/// last change sequence number handed out. A cursor from another epoch, or ahead of the last
/// sequence number, was issued by a database that has since been restored or failed over.
struct ServerEpoch: Sendable, Equatable {
    /// 12 hex digits.
    var id: String
    /// The change sequence's last value (0 before the first change).
    var lastSequence: Int64

    /// Reads both in one statement.
    static func current(on connection: PostgresConnection) throws -> ServerEpoch {
        try decode(connection.query(PostgresQuery(unsafeSQL: "SELECT \(columns)"), preparedAs: "cx_epoch")[0])
    }

    /// Reads both, and the access version (``Authentication``), in one statement: what a
    /// request that writes nothing checks its cursor and its token's check against.
    static func currentWithAccessVersion(on connection: PostgresConnection) throws -> (ServerEpoch, accessVersion: Int64) {
        let row = try connection.query(
            PostgresQuery(unsafeSQL: "SELECT \(columns), (SELECT version FROM cx.access_version) AS access_version"),
            preparedAs: "cx_epoch_and_access_version")[0]
        return (try decode(row), try row.decode("access_version", as: Int64.self))
    }

    /// Takes the transaction's sequence lock (``RecordStore/takeSequenceLock(on:)``), then reads
    /// the epoch, in one statement: what a push checks its request's cursor against, read once
    /// the lock is held and before the push writes anything (one round trip less in the serial
    /// part of every push).
    static func takingSequenceLock(on connection: PostgresConnection) throws -> ServerEpoch {
        let query = PostgresQuery(
            unsafeSQL: "WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock($1)) SELECT \(columns) FROM locked",
            binds: [String(RecordStore.sequenceLockKey)])
        return try decode(connection.query(query, preparedAs: "cx_lock_and_epoch")[0])
    }

    /// What both reads select: the epoch and the sequence's last value.
    private static let columns = """
        cx.server_epoch() AS epoch, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM cx.change_seq) AS last_seq
        """

    private static func decode(_ row: PostgresRow) throws -> ServerEpoch {
        ServerEpoch(id: try row.decode("epoch", as: String.self), lastSequence: try row.decode("last_seq", as: Int64.self))
    }

    /// Whether a cursor must be ignored and the client told to recover: it names another
    /// epoch, or a sequence number this database never handed out.
    func invalidates(_ cursor: SyncCursor.Position) -> Bool {
        if let epoch = cursor.epoch, epoch != id { return true }
        return cursor.sequence > lastSequence
    }

    /// Starts a new epoch (after restoring the database from a file-level snapshot).
    static func renew(on connection: PostgresConnection) throws {
        try connection.query("UPDATE cx.epoch SET generation = md5(random()::text || clock_timestamp()::text), renewed_at = now()")
    }
}
