import CXModel
import CXPostgres

/// The replica registry (`cx.replicas`): which user each replica belongs to, and the sync
/// token that tells the one live copy of a replica from a restored or copied one.
///
/// **Tokens.** Each sync request names the token the client last had accepted (`sync_token`)
/// and proposes the next one (`next_sync_token`), which the client stores before sending. The
/// server admits the request when its stored token is the client's (normal) or already the
/// proposed one (the retry of a request whose reply was lost), and stores the proposal. A
/// cache restored from a backup, or copied to a second laptop whose twin synced first,
/// presents an older token: it is refused with `replica_forked`, and the client continues as a
/// new replica, re-issuing the writes the server could not vouch for (see
/// ``RecordState/reminting(_:above:as:after:)``). Requests without tokens (older clients) are
/// admitted without this check.
enum ReplicaRegistry {
    /// The replica part of a sync request.
    struct Claim: Sendable {
        var replicaID: String
        /// The token the client last had accepted (`nil`: none yet).
        var token: String?
        /// The token the client proposes for its next request; `nil` for clients without tokens.
        var nextToken: String?
    }

    /// Admits `claim` for `writer`, or throws `409 replica_forked`; locks the replica's row
    /// until the caller's transaction ends. Writers without a user (server tools) pass.
    static func admit(_ claim: Claim, by writer: RecordStore.Writer, on connection: PostgresConnection) throws {
        guard let userID = writer.userID else { return }
        try connection.query(
            """
            INSERT INTO cx.replicas (replica_id, user_id, user_name, sync_token)
            VALUES (\(claim.replicaID), \(userID), \(writer.userName), \(claim.nextToken))
            ON CONFLICT (replica_id) DO NOTHING
            """)
        let rows = try connection.query(
            "SELECT user_id, sync_token FROM cx.replicas WHERE replica_id = \(claim.replicaID) FOR UPDATE")
        guard let row = rows.first else { return }
        let owner = try row.decode("user_id", as: Int64?.self)
        let stored = try row.decode("sync_token", as: String?.self)
        if let owner, owner != userID {
            throw APIError(
                .conflict, code: "replica_forked",
                message: "replica \(claim.replicaID) belongs to another user (this cx home was copied from someone else's); cx continues as a new replica")
        }
        if let nextToken = claim.nextToken, let stored, stored != claim.token, stored != nextToken {
            throw APIError(
                .conflict, code: "replica_forked",
                message: "replica \(claim.replicaID) has synced from another copy of this cx home (a restored backup or a copied home directory); cx continues as a new replica and re-sends its unconfirmed changes")
        }
        try connection.query(
            """
            UPDATE cx.replicas
            SET user_id = \(userID), user_name = \(writer.userName),
                sync_token = coalesce(\(claim.nextToken), sync_token), last_seen_at = now()
            WHERE replica_id = \(claim.replicaID)
            """)
    }

    /// Who owns each of `replicas`: the user id, `.some(nil)` for a replica registered to no
    /// one (seen only in clocks from before the registry), absent when never seen.
    static func owners(of replicas: Set<String>, on connection: PostgresConnection) throws -> [String: Int64?] {
        guard !replicas.isEmpty else { return [:] }
        var owners: [String: Int64?] = [:]
        let rows = try connection.query(
            "SELECT replica_id, user_id FROM cx.replicas WHERE replica_id = ANY(\(PostgresArrayLiteral.text(replicas))::text[])")
        for row in rows {
            owners[try row.decode("replica_id", as: String.self)] = .some(try row.decode("user_id", as: Int64?.self))
        }
        return owners
    }

    /// Registers replicas never seen before to `userID`: the first user to push a replica's
    /// writes is the one whose laptop made them (a replica id is random and unknown to anyone
    /// else until its writes reach the server).
    static func register(_ replicas: [String], to writer: RecordStore.Writer, on connection: PostgresConnection) throws {
        guard let userID = writer.userID, !replicas.isEmpty else { return }
        try connection.query(
            """
            INSERT INTO cx.replicas (replica_id, user_id, user_name)
            SELECT r, \(userID), \(writer.userName) FROM unnest(\(PostgresArrayLiteral.text(replicas))::text[]) AS r
            ON CONFLICT (replica_id) DO NOTHING
            """)
    }
}
