import CXModel
import CXPostgres

/// The server replica an OS user's imports write as (`import:<user>`), registered in
/// `cx.replicas` like every replica, with the last counter it minted kept in
/// `cx.import_writers` (migration 13) — so a dot names one write forever, across imports.
enum ImportWriters {
    /// The replica of `name` and the last counter it used.
    struct Claim: Sendable {
        var replicaID: String
        var counter: UInt64
    }

    /// The replica of `name`, created and registered on its first import; its row locked until
    /// the transaction ends. Call under the sequence lock.
    static func claim(_ name: String, on connection: PostgresConnection) throws -> Claim {
        if let claim = try stored(name, on: connection, locking: true) { return claim }
        var replica = "import:" + UnicodeNormalization.nfc(name)
        let taken = try connection.query("SELECT 1 FROM cx.replicas WHERE replica_id = \(replica)")
        if !taken.isEmpty {
            // Someone else's replica already has the name: never share its counters.
            replica += "." + String(RecordID.random().prefix(8))
        }
        try connection.query("INSERT INTO cx.import_writers (writer, replica_id) VALUES (\(name), \(replica))")
        try connection.query(
            "INSERT INTO cx.replicas (replica_id, user_id, user_name) VALUES (\(replica), NULL, \(replica)) ON CONFLICT (replica_id) DO NOTHING")
        return Claim(replicaID: replica, counter: 0)
    }

    /// The replica `name` would write as, read without writing anything (a dry run).
    static func peek(_ name: String, on connection: PostgresConnection) throws -> Claim {
        try stored(name, on: connection, locking: false) ?? Claim(replicaID: "import:" + UnicodeNormalization.nfc(name), counter: 0)
    }

    /// Records the last counter minted by `claim`'s replica.
    static func save(_ claim: Claim, on connection: PostgresConnection) throws {
        let counter = Int64(claim.counter)
        try connection.query(
            "UPDATE cx.import_writers SET counter = greatest(counter, \(counter)), last_import_at = now() WHERE replica_id = \(claim.replicaID)")
        try connection.query("UPDATE cx.replicas SET last_seen_at = now() WHERE replica_id = \(claim.replicaID)")
    }

    private static func stored(_ name: String, on connection: PostgresConnection, locking: Bool) throws -> Claim? {
        let rows = try connection.query(
            PostgresQuery(
                unsafeSQL: "SELECT replica_id, counter FROM cx.import_writers WHERE writer = $1" + (locking ? " FOR UPDATE" : ""),
                binds: [name]))
        guard let row = rows.first else { return nil }
        return Claim(replicaID: try row.decode("replica_id", as: String.self), counter: UInt64(try row.decode("counter", as: Int64.self)))
    }
}
