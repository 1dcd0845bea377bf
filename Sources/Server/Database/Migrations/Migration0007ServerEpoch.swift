/// The server epoch: an identity of the history the database holds, carried in every sync
/// cursor, so clients notice a restore or a failover.
///
/// `cx.server_epoch()` hashes PostgreSQL's system identifier and current timeline (a restore
/// into a new cluster changes the first; point-in-time recovery and promoting a standby change
/// the second) with `cx.epoch.generation`, which `cx-server epoch renew` replaces for restores
/// that change neither (a file-level snapshot put back in place). Reading `pg_control_*` needs
/// `pg_monitor` or superuser; without it only the generation counts.
enum Migration0007ServerEpoch {
    static let migration = Migration(version: 7, name: "server epoch", sql: #"""
        CREATE TABLE cx.epoch (
            only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
            generation  text NOT NULL,
            renewed_at  timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO cx.epoch (generation) VALUES (md5(random()::text || clock_timestamp()::text));

        CREATE FUNCTION cx.server_epoch() RETURNS text LANGUAGE plpgsql STABLE AS $$
        DECLARE
            identity text := '';
        BEGIN
            BEGIN
                SELECT s.system_identifier::text || ':' || c.timeline_id::text INTO identity
                FROM pg_control_system() AS s, pg_control_checkpoint() AS c;
            EXCEPTION WHEN insufficient_privilege THEN
                identity := '';
            END;
            RETURN substr(md5(coalesce(identity, '') || ':' || (SELECT generation FROM cx.epoch)), 1, 12);
        END
        $$;
        """#)
}
