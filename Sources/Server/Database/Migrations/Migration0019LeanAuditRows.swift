/// Audit rows that cost PostgreSQL less to write (issue 12): every merged write adds one row to
/// `cx.changes`, so on a push of new records the audit trail is written as often as the
/// records themselves, and its cost was measured on the push's serial path (docs/benchmarks.md,
/// "Lean audit rows"):
///
/// - `fields` becomes `json`: PostgreSQL checks it is JSON and stores the text, instead of
///   building a `jsonb` tree of every changed field on every write. Nothing in cx reads it with
///   `jsonb` operators; `->`, `->>` and `json_to_recordset` work on `json`, and `fields::jsonb`
///   gives the rest. `cx.field_changes` is recreated over `json_to_recordset`, same columns.
/// - `changes_changed_at` becomes a BRIN index: rows are appended in time order, so block ranges
///   answer "what changed since …" as well as a B-tree, for a fraction of the upkeep per row.
/// - `user_id` no longer references `cx.users`: the foreign-key check locked the user's row
///   for every audit row written. An audit row records who wrote, by id and name, as of the
///   write; a user removed later leaves the history as it was (cx never deletes users).
enum Migration0019LeanAuditRows {
    static let migration = Migration(version: 19, name: "lean audit rows", sql: #"""
        DROP VIEW cx.field_changes;
        ALTER TABLE cx.changes ALTER COLUMN fields TYPE json USING fields::json;
        CREATE VIEW cx.field_changes AS
            SELECT c.id AS change_id, c.changed_at, c.record_id, c.kind, c.operation, c.user_name, c.replica_id,
                   f.field, f."from", f."to"
            FROM cx.changes c CROSS JOIN LATERAL json_to_recordset(c.fields) AS f(field text, "from" text, "to" text);
        GRANT SELECT ON cx.field_changes TO cx_analyst;

        DROP INDEX cx.changes_changed_at;
        CREATE INDEX changes_changed_at ON cx.changes USING brin (changed_at);

        ALTER TABLE cx.changes DROP CONSTRAINT IF EXISTS changes_user_id_fkey;
        """#)
}
