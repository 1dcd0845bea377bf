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
        if let refusal = try admit([(claim, writer)], on: connection)[0] { throw refusal }
    }

    /// Admits each of `claims` in order, as one ``admit(_:by:on:)`` after another would — a
    /// later claim on the same replica sees the token an earlier one stored — in three
    /// statements whatever their number; answers `nil` for each admitted claim and the
    /// `409 replica_forked` for each refused one (which changes nothing). Locks the replicas'
    /// rows, in replica id order, until the caller's transaction ends.
    static func admit(
        _ claims: [(claim: Claim, writer: RecordStore.Writer)], on connection: PostgresConnection
    ) throws -> [APIError?] {
        var verdicts = [APIError?](repeating: nil, count: claims.count)
        // The row each replica would get from the first claim on it, were it new.
        var firstClaims: [String: Row] = [:]
        for (claim, writer) in claims {
            guard let userID = writer.userID, firstClaims[claim.replicaID] == nil else { continue }
            firstClaims[claim.replicaID] = Row(owner: userID, ownerName: writer.userName, token: claim.nextToken)
        }
        guard !firstClaims.isEmpty else { return verdicts }
        let replicaIDs = firstClaims.keys.sorted()
        // Rows new to the registry first (in id order, as every writer locks them), so the lock
        // below covers them too; a concurrent first claim on the same replica waits here.
        try connection.query(
            """
            INSERT INTO cx.replicas (replica_id, user_id, user_name, sync_token)
            SELECT r.replica_id, r.user_id, r.user_name, r.sync_token
            FROM jsonb_to_recordset(\(Self.document(replicaIDs.map { ($0, firstClaims[$0]!) }))::jsonb)
                 AS r(replica_id text, user_id bigint, user_name text, sync_token text)
            ORDER BY r.replica_id
            ON CONFLICT (replica_id) DO NOTHING
            """, preparedAs: "cx_admit_new_replicas")
        var rows: [String: Row] = [:]
        for row in try connection.query(
            """
            SELECT replica_id, user_id, user_name, sync_token FROM cx.replicas
            WHERE replica_id = ANY(\(PostgresArrayLiteral.text(replicaIDs))::text[])
            ORDER BY replica_id FOR UPDATE
            """, preparedAs: "cx_admit_lock_replicas")
        {
            rows[try row.decode("replica_id", as: String.self)] = Row(
                owner: try row.decode("user_id", as: Int64?.self), ownerName: try row.decode("user_name", as: String?.self),
                token: try row.decode("sync_token", as: String?.self))
        }
        var admitted: Set<String> = []
        for (index, (claim, writer)) in claims.enumerated() {
            guard let userID = writer.userID, let row = rows[claim.replicaID] else { continue }
            if let refusal = Self.refusal(claim, by: userID, stored: row) {
                verdicts[index] = refusal
                continue
            }
            rows[claim.replicaID] = Row(owner: userID, ownerName: writer.userName, token: claim.nextToken ?? row.token)
            admitted.insert(claim.replicaID)
        }
        guard !admitted.isEmpty else { return verdicts }
        let updated = admitted.sorted().map { ($0, rows[$0]!) }
        try connection.query(
            """
            UPDATE cx.replicas AS k
            SET user_id = r.user_id, user_name = r.user_name, sync_token = r.sync_token, last_seen_at = now()
            FROM jsonb_to_recordset(\(Self.document(updated))::jsonb)
                 AS r(replica_id text, user_id bigint, user_name text, sync_token text)
            WHERE k.replica_id = r.replica_id
            """, preparedAs: "cx_admit_advance_replicas")
        return verdicts
    }

    /// A replica's registry row, as far as admission reads and writes it.
    private struct Row {
        var owner: Int64?
        var ownerName: String?
        var token: String?
    }

    /// Why `claim` by user `userID` is refused over the `stored` row, or `nil` when it is admitted.
    private static func refusal(_ claim: Claim, by userID: Int64, stored: Row) -> APIError? {
        if let owner = stored.owner, owner != userID {
            return APIError(
                .conflict, code: "replica_forked",
                message: "replica \(claim.replicaID) belongs to another user (this cx home was copied from someone else's); cx continues as a new replica")
        }
        if let nextToken = claim.nextToken, let token = stored.token, token != claim.token, token != nextToken {
            return APIError(
                .conflict, code: "replica_forked",
                message: "replica \(claim.replicaID) has synced from another copy of this cx home (a restored backup or a copied home directory); cx continues as a new replica and re-sends its unconfirmed changes")
        }
        return nil
    }

    /// `[{"replica_id":…,"user_id":…,"user_name":…,"sync_token":…}, …]`, bound as one `jsonb`.
    private static func document(_ rows: [(replicaID: String, row: Row)]) -> String {
        var w = JSONWriter()
        w.byte(UInt8(ascii: "["))
        for (index, (replicaID, row)) in rows.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.raw("{\"replica_id\":")
            w.string(replicaID)
            w.raw(",\"user_id\":")
            if let owner = row.owner { w.number(owner) } else { w.raw("null") }
            w.raw(",\"user_name\":")
            w.optionalString(row.ownerName)
            w.raw(",\"sync_token\":")
            w.optionalString(row.token)
            w.byte(UInt8(ascii: "}"))
        }
        w.byte(UInt8(ascii: "]"))
        return String(decoding: w.bytes, as: UTF8.self)
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
            """, preparedAs: "cx_register_replicas")
    }
}
