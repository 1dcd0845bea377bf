/// SQL functions that read record states with the Model's rules, and the view of open conflicts:
/// - `cx.register_displayed`, `cx.state_displayed`: the value every replica displays (latest
///   `at`, ties by replica id in byte order, then counter), as `RecordState+Display.swift`;
/// - `cx.state_deletion` (`live`, `deleted`, `conflicted`), `cx.state_has_conflicts`,
///   `cx.state_conflicts` (the candidates `cx conflicts` shows), `cx.state_tags`,
///   `cx.state_extra`, `cx.state_row_values` (the displayed values the audit trail compares);
/// - the view `cx.conflicts (record, kind, field, candidates)`, readable by `cx_analyst`.
///
/// `Tests/ServerTests/SQLWriteFaithfulnessTests.swift` checks them against the Model on
/// generated states.
enum Migration0011StateFunctions {
    static let migration = Migration(version: 11, name: "state functions and conflicts view", sql: #"""
        -- Reading states with the Model's rules (RecordState+Display.swift, FieldRegister.swift).

        -- Whether `clock` has seen `dot` ([replica, counter]).
        CREATE FUNCTION cx.clock_covers(clock jsonb, dot jsonb) RETURNS boolean
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce((clock ->> (dot ->> 0))::bigint, 0) >= (dot ->> 1)::bigint
        $$;

        -- The entry every replica displays: latest `at`, ties by replica id (byte order), then counter.
        CREATE FUNCTION cx.register_displayed(entries jsonb) RETURNS jsonb
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT e FROM jsonb_array_elements(entries) AS e
            ORDER BY e ->> 'at' COLLATE "C" DESC, (e -> 'dot' ->> 0) COLLATE "C" DESC, (e -> 'dot' ->> 1)::bigint DESC
            LIMIT 1
        $$;

        -- The displayed value of every field that has one: {"name": "Acme", "extra.industry": "…"}.
        CREATE FUNCTION cx.state_displayed(state jsonb) RETURNS jsonb
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce(jsonb_object_agg(f.key, d.entry -> 'value'), '{}')
            FROM jsonb_each(state -> 'fields') AS f
            CROSS JOIN LATERAL (SELECT cx.register_displayed(f.value) AS entry) AS d
            WHERE jsonb_typeof(d.entry -> 'value') = 'string'
        $$;

        -- Field entries and tag adds that none of the state's tombstones had seen (edits concurrent
        -- with the delete); tag adds carry no time (the epoch) and no user.
        CREATE FUNCTION cx.state_unseen_by_tombstones(state jsonb)
        RETURNS TABLE (dot jsonb, at text, user_name text)
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            WITH tombstones AS (
                SELECT t -> 'seen' AS seen FROM jsonb_array_elements(state -> 'deletion') AS t WHERE (t ->> 'deleted')::boolean
            ), writes AS (
                SELECT e -> 'dot' AS dot, e ->> 'at' AS at, e ->> 'user' AS user_name
                FROM jsonb_each(state -> 'fields') AS f CROSS JOIN LATERAL jsonb_array_elements(f.value) AS e
                UNION ALL
                SELECT d, '1970-01-01T00:00:00.000Z', NULL
                FROM jsonb_each(state -> 'tags') AS g CROSS JOIN LATERAL jsonb_array_elements(g.value) AS d
            )
            SELECT w.dot, w.at, w.user_name FROM writes AS w
            WHERE NOT EXISTS (SELECT 1 FROM tombstones AS t WHERE cx.clock_covers(t.seen, w.dot))
        $$;

        -- 'live', 'deleted' or 'conflicted' (a delete concurrent with an edit or a restore).
        CREATE FUNCTION cx.state_deletion(state jsonb) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE
                WHEN tombstones = 0 THEN 'live'
                WHEN tombstones <> entries THEN 'conflicted'
                WHEN EXISTS (SELECT 1 FROM cx.state_unseen_by_tombstones(state)) THEN 'conflicted'
                ELSE 'deleted'
            END
            FROM (
                SELECT count(*) FILTER (WHERE (t ->> 'deleted')::boolean) AS tombstones, count(*) AS entries
                FROM jsonb_array_elements(coalesce(state -> 'deletion', '[]')) AS t
            ) AS counts
        $$;

        -- Every open conflict of a state, as `cx conflicts` shows it: a delete/edit conflict first
        -- (field `deleted`, candidates keep and delete), then the conflicted fields by name, each
        -- with one candidate per distinct value, the displayed one last.
        CREATE FUNCTION cx.state_conflicts(state jsonb)
        RETURNS TABLE (field text, candidates jsonb)
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT 'deleted',
                   jsonb_build_array(
                       (SELECT jsonb_build_object('value', 'keep', 'user', k.user_name, 'replica', k.dot ->> 0, 'at', k.at)
                        FROM (
                            SELECT r -> 'dot' AS dot, r ->> 'at' AS at, r ->> 'user' AS user_name
                            FROM jsonb_array_elements(state -> 'deletion') AS r WHERE NOT (r ->> 'deleted')::boolean
                            UNION ALL
                            SELECT u.dot, u.at, u.user_name FROM cx.state_unseen_by_tombstones(state) AS u
                        ) AS k
                        ORDER BY k.at COLLATE "C" DESC, (k.dot ->> 0) COLLATE "C" DESC, (k.dot ->> 1)::bigint DESC LIMIT 1),
                       (SELECT jsonb_build_object('value', 'delete', 'user', t ->> 'user', 'replica', t -> 'dot' ->> 0, 'at', t ->> 'at')
                        FROM jsonb_array_elements(state -> 'deletion') AS t WHERE (t ->> 'deleted')::boolean
                        ORDER BY t ->> 'at' COLLATE "C" DESC, (t -> 'dot' ->> 0) COLLATE "C" DESC, (t -> 'dot' ->> 1)::bigint DESC LIMIT 1))
            WHERE cx.state_deletion(state) = 'conflicted'
            UNION ALL
            SELECT * FROM (
                SELECT f.key,
                       (SELECT jsonb_agg(jsonb_build_object('value', c.e -> 'value', 'user', c.e -> 'user', 'replica', c.e -> 'dot' -> 0, 'at', c.e -> 'at')
                                         ORDER BY c.rank DESC)
                        FROM (
                            SELECT DISTINCT ON (e -> 'value') e,
                                   row_number() OVER (ORDER BY e ->> 'at' COLLATE "C" DESC, (e -> 'dot' ->> 0) COLLATE "C" DESC,
                                                               (e -> 'dot' ->> 1)::bigint DESC) AS rank
                            FROM jsonb_array_elements(f.value) AS e
                            ORDER BY e -> 'value', rank
                        ) AS c)
                FROM jsonb_each(state -> 'fields') AS f
                WHERE (SELECT count(DISTINCT e -> 'value') FROM jsonb_array_elements(f.value) AS e) > 1
                ORDER BY f.key COLLATE "C"
            ) AS fields
        $$;

        -- Whether any field, or the record's deletion, is in conflict.
        CREATE FUNCTION cx.state_has_conflicts(state jsonb) RETURNS boolean
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT EXISTS (
                SELECT 1 FROM jsonb_each(state -> 'fields') AS f
                WHERE (SELECT count(DISTINCT e -> 'value') FROM jsonb_array_elements(f.value) AS e) > 1
            ) OR cx.state_deletion(state) = 'conflicted'
        $$;

        -- The live tags, sorted (byte order, as the Model sorts them).
        CREATE FUNCTION cx.state_tags(state jsonb) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce(array_agg(t ORDER BY t COLLATE "C"), '{}') FROM jsonb_object_keys(state -> 'tags') AS t
        $$;

        -- The displayed `extra.<key>` values as {"key": "value"}.
        CREATE FUNCTION cx.state_extra(state jsonb) RETURNS jsonb
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce(jsonb_object_agg(substr(d.key, 7), d.value), '{}')
            FROM jsonb_each(cx.state_displayed(state)) AS d WHERE d.key LIKE 'extra.%'
        $$;

        -- The displayed values the audit trail compares: every field's, `tags` (comma-separated) and
        -- `deleted` ("true" when deleted), as AuditEntry.swift.
        CREATE FUNCTION cx.state_row_values(state jsonb) RETURNS jsonb
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT cx.state_displayed(state)
                || CASE WHEN state -> 'tags' = '{}' THEN '{}'::jsonb
                        ELSE jsonb_build_object('tags', array_to_string(cx.state_tags(state), ', ')) END
                || CASE WHEN cx.state_deletion(state) = 'deleted' THEN '{"deleted": "true"}'::jsonb ELSE '{}'::jsonb END
        $$;


        -- Every open conflict, one row per conflicted field of a record (field `deleted` for a
        -- delete/edit conflict), candidates as [{"value", "user", "replica", "at"}], the displayed last.
        CREATE VIEW cx.conflicts AS
            SELECT c.id AS record, 'customer'::text AS kind, f.field, f.candidates
            FROM cx.customers AS c CROSS JOIN LATERAL cx.state_conflicts(c.state) AS f
            WHERE c.has_conflicts
            UNION ALL
            SELECT a.id, 'activity', f.field, f.candidates
            FROM cx.activities AS a CROSS JOIN LATERAL cx.state_conflicts(a.state) AS f
            WHERE a.has_conflicts;

        GRANT SELECT ON cx.conflicts TO cx_analyst;
        """#)
}
