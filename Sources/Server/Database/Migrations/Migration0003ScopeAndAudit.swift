/// Territory-scoped sync and the audit trail:
/// - `cx.user_territories` keeps removed territories (`removed_at`), so a rep who just lost one
///   may still push the edits they made offline (the hand-off window, setting `handoff_days`);
/// - `cx.territory_exits`: when a customer's territory changes, the territory it left, so the
///   next sync of that territory's users drops it from their caches;
/// - `cx.changes`: one row per merged write — who, from which replica, which record, which
///   displayed fields changed from what to what, when — and the view `cx.field_changes` with
///   one row per changed field;
/// - an index for the scoped pull (`territory`, `seq`).
enum Migration0003ScopeAndAudit {
    static let migration = Migration(version: 3, name: "scoped sync and audit trail", sql: #"""
        ALTER TABLE cx.user_territories
            ADD COLUMN added_at   timestamptz NOT NULL DEFAULT now(),
            ADD COLUMN removed_at timestamptz;

        CREATE TABLE cx.territory_exits (
            customer_id uuid NOT NULL,
            territory   text NOT NULL,
            seq         bigint NOT NULL,
            exited_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (customer_id, territory)
        );
        CREATE INDEX territory_exits_territory_seq ON cx.territory_exits (territory, seq);

        CREATE INDEX customers_territory_seq ON cx.customers (territory, seq);

        CREATE TABLE cx.changes (
            id            bigserial PRIMARY KEY,
            changed_at    timestamptz NOT NULL DEFAULT now(),
            record_id     uuid NOT NULL,
            kind          text NOT NULL CHECK (kind IN ('customer', 'activity')),
            operation     text NOT NULL CHECK (operation IN ('insert', 'update')),
            user_id       bigint REFERENCES cx.users ON DELETE SET NULL,
            user_name     text NOT NULL,
            replica_id    text NOT NULL,
            -- [{"field": …, "from": displayed value or null, "to": …}], in schema order.
            fields        jsonb NOT NULL,
            has_conflicts boolean NOT NULL,
            seq           bigint NOT NULL
        );
        CREATE INDEX changes_record ON cx.changes (record_id, id);
        CREATE INDEX changes_changed_at ON cx.changes (changed_at);

        CREATE VIEW cx.field_changes AS
            SELECT c.id AS change_id, c.changed_at, c.record_id, c.kind, c.operation, c.user_name, c.replica_id,
                   f.field, f."from", f."to"
            FROM cx.changes c CROSS JOIN LATERAL jsonb_to_recordset(c.fields) AS f(field text, "from" text, "to" text);

        ALTER TABLE cx.settings DROP CONSTRAINT settings_key_check;
        ALTER TABLE cx.settings ADD CONSTRAINT settings_key_check
            CHECK (key IN ('window_days', 'target_margin', 'grace_days', 'handoff_days'));
        INSERT INTO cx.settings (key, value) VALUES ('handoff_days', '14');

        -- The start of the hand-off window: territory changes after it still allow offline edits.
        CREATE FUNCTION cx.handoff_since() RETURNS timestamptz
        LANGUAGE sql STABLE AS $$
            SELECT now() - make_interval(days => coalesce((SELECT value::integer FROM cx.settings WHERE key = 'handoff_days'), 14))
        $$;

        GRANT SELECT ON cx.territory_exits, cx.changes, cx.field_changes TO cx_analyst;
        """#)
}
