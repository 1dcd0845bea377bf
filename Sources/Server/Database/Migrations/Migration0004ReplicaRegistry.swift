/// The replica registry: who each replica belongs to, and the sync token that tells one copy
/// of a replica from another.
///
/// - `cx.replicas`: one row per replica id that ever pushed. `user_id` is the user whose
///   client first used it; a replica may claim writes the server has not received (counters
///   beyond the stored clock) only for replicas of its own user. `sync_token` is the token the
///   replica's next request must present (see docs/sync-protocol.md, "Replica incarnations"):
///   a restored or copied cache presents an older one and is told to continue as a new replica.
/// - Replicas that pushed through the audited path belong to the user who pushed them; those
///   found only in stored clocks (writes from before the audit trail) belong to no one until a
///   client pushes as them.
enum Migration0004ReplicaRegistry {
    static let migration = Migration(version: 4, name: "replica registry", sql: #"""
        CREATE TABLE cx.replicas (
            replica_id    text PRIMARY KEY,
            user_id       bigint REFERENCES cx.users ON DELETE SET NULL,
            user_name     text,
            sync_token    text,
            first_seen_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX replicas_user ON cx.replicas (user_id);

        INSERT INTO cx.replicas (replica_id, user_id, user_name, first_seen_at, last_seen_at)
        SELECT DISTINCT ON (replica_id) replica_id, user_id, user_name, changed_at, changed_at
        FROM cx.changes ORDER BY replica_id, id;

        INSERT INTO cx.replicas (replica_id)
        SELECT DISTINCT replica FROM (
            SELECT jsonb_object_keys(state -> 'clock') AS replica FROM cx.customers
            UNION ALL
            SELECT jsonb_object_keys(state -> 'clock') FROM cx.activities
        ) AS clocks
        ON CONFLICT (replica_id) DO NOTHING;

        GRANT SELECT (replica_id, user_name, first_seen_at, last_seen_at) ON cx.replicas TO cx_analyst;
        """#)
}
