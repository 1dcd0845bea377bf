/// What `cx-server import` needs: the external key of customers, indexes to find records by
/// their ERP reference (and customers by email), and the import replicas' counters.
///
/// - `cx.customers.reference`: the customer field `reference` (Schema.swift), the ERP's
///   customer number. A generated column (the displayed value of the state's register), so
///   every writer keeps it right — pushes, imports and `cx.sql_write` (migration 12) alike;
/// - `cx.normalize_field` learns the customer field `reference` (same rule as an activity's);
///   the function of migration 12 stays, renamed `cx.normalize_field_0012`, and the new one
///   delegates to it;
/// - `cx.import_writers`: the server replica of each OS user who imports (`import:<user>`,
///   registered in `cx.replicas`) and the last counter it minted, so a dot names one write
///   forever.
///
/// See docs/server.md, "Loading from the ERP".
enum Migration0013ImportKeys {
    static let migration = Migration(version: 13, name: "import keys", sql: #"""
        ALTER TABLE cx.customers ADD COLUMN reference text
            GENERATED ALWAYS AS (cx.register_displayed(state -> 'fields' -> 'reference') ->> 'value') STORED;
        CREATE INDEX customers_reference ON cx.customers (reference) WHERE NOT deleted AND reference IS NOT NULL;
        CREATE INDEX customers_email_lower ON cx.customers (lower(email)) WHERE NOT deleted AND email IS NOT NULL;
        CREATE INDEX activities_reference ON cx.activities (reference) WHERE NOT deleted AND reference IS NOT NULL;

        ALTER FUNCTION cx.normalize_field(text, text, text) RENAME TO normalize_field_0012;
        CREATE FUNCTION cx.normalize_field(kind text, field text, value text) RETURNS text
        LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            IF kind = 'customer' AND field = 'reference' THEN
                -- The same rule as an activity's reference: text of at most 200 code points.
                RETURN cx.normalize_field_0012('activity', field, value);
            END IF;
            IF kind = 'customer' AND field NOT LIKE 'extra.%' AND field NOT IN (
                'name', 'company', 'email', 'phone', 'address', 'city', 'country', 'territory', 'owner', 'segment', 'notes') THEN
                RAISE EXCEPTION '%: unknown % field; use one of %, or extra.<key>', field, kind,
                    'name, company, email, phone, address, city, country, territory, owner, segment, notes, reference'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            RETURN cx.normalize_field_0012(kind, field, value);
        END
        $$;

        CREATE TABLE cx.import_writers (
            writer          text PRIMARY KEY,
            replica_id      text NOT NULL UNIQUE,
            counter         bigint NOT NULL DEFAULT 0 CHECK (counter >= 0),
            first_import_at timestamptz NOT NULL DEFAULT now(),
            last_import_at  timestamptz NOT NULL DEFAULT now()
        );
        GRANT SELECT ON cx.import_writers TO cx_analyst;
        """#)
}
