/// The initial schema: users and tokens, the two record tables with typed columns for every
/// displayed field beside the full CRDT state, the shared change sequence behind the sync
/// cursor, and the read-only `cx_analyst` role.
enum Migration0001Initial {
    static let migration = Migration(version: 1, name: "initial schema", sql: #"""
        CREATE SEQUENCE cx.change_seq;

        CREATE TABLE cx.users (
            id          bigserial PRIMARY KEY,
            name        text NOT NULL UNIQUE CHECK (name <> ''),
            role        text NOT NULL DEFAULT 'rep' CHECK (role IN ('rep', 'manager', 'admin')),
            created_at  timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE cx.user_territories (
            user_id     bigint NOT NULL REFERENCES cx.users ON DELETE CASCADE,
            territory   text NOT NULL,
            PRIMARY KEY (user_id, territory)
        );

        -- Tokens are stored only as SHA-256 hashes; `prefix` (not secret) finds the row.
        CREATE TABLE cx.tokens (
            id           bigserial PRIMARY KEY,
            user_id      bigint NOT NULL REFERENCES cx.users ON DELETE CASCADE,
            prefix       text NOT NULL UNIQUE,
            hash         bytea NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now(),
            expires_at   timestamptz,
            revoked_at   timestamptz,
            last_used_at timestamptz
        );

        -- One row per customer: the displayed value of every field in a typed column, and the
        -- full CRDT state (every conflicting value, clocks, tombstones) in `state`.
        CREATE TABLE cx.customers (
            id            uuid PRIMARY KEY,
            name          text,
            company       text,
            email         text,
            phone         text,
            address       text,
            city          text,
            country       text,
            territory     text,
            owner         text,
            segment       text,
            notes         text,
            tags          text[] NOT NULL DEFAULT '{}',
            extra         jsonb NOT NULL DEFAULT '{}',
            has_conflicts boolean NOT NULL DEFAULT false,
            deleted       boolean NOT NULL DEFAULT false,
            created_at    timestamptz NOT NULL DEFAULT now(),
            updated_at    timestamptz NOT NULL DEFAULT now(),
            seq           bigint NOT NULL,
            state         jsonb NOT NULL
        );
        CREATE UNIQUE INDEX customers_seq ON cx.customers (seq);
        CREATE INDEX customers_territory ON cx.customers (territory) WHERE NOT deleted;
        CREATE INDEX customers_owner ON cx.customers (owner) WHERE NOT deleted;
        CREATE INDEX customers_conflicts ON cx.customers (id) WHERE has_conflicts;

        -- Activities: purchases, referrals, touchpoints. No foreign key to customers: replicas
        -- sync independently, and an activity may arrive before its customer does.
        CREATE TABLE cx.activities (
            id                   uuid PRIMARY KEY,
            customer_id          uuid,
            type                 text,
            "on"                 date,
            amount               numeric(16, 2),
            margin               numeric(6, 4),
            due_on               date,
            paid_on              date,
            reference            text,
            referred_customer_id uuid,
            referred_name        text,
            note                 text,
            channel              text,
            nps                  smallint,
            tags                 text[] NOT NULL DEFAULT '{}',
            extra                jsonb NOT NULL DEFAULT '{}',
            has_conflicts        boolean NOT NULL DEFAULT false,
            deleted              boolean NOT NULL DEFAULT false,
            created_at           timestamptz NOT NULL DEFAULT now(),
            updated_at           timestamptz NOT NULL DEFAULT now(),
            seq                  bigint NOT NULL,
            state                jsonb NOT NULL
        );
        CREATE UNIQUE INDEX activities_seq ON cx.activities (seq);
        CREATE INDEX activities_customer ON cx.activities (customer_id);
        CREATE INDEX activities_type_on ON cx.activities (type, "on") WHERE NOT deleted;

        -- The central team's read-only role. NOLOGIN: grant it to real login roles
        -- (`GRANT cx_analyst TO alice;`).
        -- Roles are cluster-wide: databases of one cluster migrating at once may race here, so
        -- "already exists" is success.
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cx_analyst') THEN
                CREATE ROLE cx_analyst NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END
        $$;
        GRANT USAGE ON SCHEMA cx TO cx_analyst;
        GRANT SELECT ON cx.customers, cx.activities TO cx_analyst;
        GRANT SELECT (id, name, role, created_at) ON cx.users TO cx_analyst;
        GRANT SELECT ON cx.user_territories TO cx_analyst;
        """#)
}
