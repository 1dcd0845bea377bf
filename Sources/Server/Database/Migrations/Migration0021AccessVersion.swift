/// A version number for everything a token's check reads (issue 12): it moves with every change
/// to a token's validity, a user's name or role, a user's territories and the settings (the
/// hand-off window). A server that answers a sync from a cached check of the token
/// (``AuthenticationCache``) compares the version it cached with the one read in the request's
/// own statements, and checks the token again when they differ: a revocation, a lost territory
/// or a closed hand-off window applies to the next request, as when every request read the
/// tokens table — without a query of its own per request.
///
/// The counter is a row, not a sequence: it moves when the change commits (a sequence moves
/// before), so a check read with the old version never sees the new state, and one read with
/// the new version always does. Statement triggers move it once per statement; issuing a token
/// or adding a user changes no existing check, so inserts into `cx.tokens` and `cx.users` do not
/// count, nor do the `last_used_at` updates of the checks themselves.
enum Migration0021AccessVersion {
    static let migration = Migration(version: 21, name: "access version", sql: #"""
        CREATE TABLE cx.access_version (
            version bigint NOT NULL,
            only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row)
        );
        INSERT INTO cx.access_version (version) VALUES (1);

        -- Runs as the table's owner: whoever may change a token, a user, a territory or a
        -- setting (an admin command, the central team's role) moves the version without a
        -- grant of its own on it.
        CREATE FUNCTION cx.access_changed() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            UPDATE cx.access_version SET version = version + 1;
            RETURN NULL;
        END
        $$;

        CREATE TRIGGER tokens_access_changed
            AFTER UPDATE OF user_id, prefix, hash, expires_at, revoked_at OR DELETE ON cx.tokens
            FOR EACH STATEMENT EXECUTE FUNCTION cx.access_changed();
        CREATE TRIGGER tokens_truncated AFTER TRUNCATE ON cx.tokens
            FOR EACH STATEMENT EXECUTE FUNCTION cx.access_changed();
        CREATE TRIGGER users_access_changed
            AFTER UPDATE OF id, name, role OR DELETE ON cx.users
            FOR EACH STATEMENT EXECUTE FUNCTION cx.access_changed();
        CREATE TRIGGER users_truncated AFTER TRUNCATE ON cx.users
            FOR EACH STATEMENT EXECUTE FUNCTION cx.access_changed();
        CREATE TRIGGER user_territories_access_changed
            AFTER INSERT OR UPDATE OR DELETE ON cx.user_territories
            FOR EACH STATEMENT EXECUTE FUNCTION cx.access_changed();
        CREATE TRIGGER user_territories_truncated AFTER TRUNCATE ON cx.user_territories
            FOR EACH STATEMENT EXECUTE FUNCTION cx.access_changed();
        CREATE TRIGGER settings_access_changed
            AFTER INSERT OR UPDATE OR DELETE ON cx.settings
            FOR EACH STATEMENT EXECUTE FUNCTION cx.access_changed();
        CREATE TRIGGER settings_truncated AFTER TRUNCATE ON cx.settings
            FOR EACH STATEMENT EXECUTE FUNCTION cx.access_changed();
        """#)
}
