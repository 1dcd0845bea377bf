/// Duplicate customers (issue 13, item 4):
/// - `cx.duplicate_candidates`: likely duplicate pairs, by the rules of the Model's
///   `DuplicateFinder` (same normalised email or phone, similar names in one city), readable by
///   `cx_analyst` and `cx_editor`; the normalisations are the `cx.duplicate_*` functions;
/// - `cx.merge_customers(keep, drop)` for `cx_editor`: the Model's `DuplicateMerge` as SQL
///   writes of the session user's replica (`cx.sql_write`, migration 0012): the survivor absorbs
///   the duplicate (operation `absorb`, added here: gaps filled, different values kept as
///   conflicting candidates, tags united), the duplicate becomes a tombstone holding
///   `extra.merged_into`, its activities move to the survivor.
///
/// The measure of name similarity is written here in SQL rather than taken from `pg_trgm`, so
/// that it needs no extension (a managed PostgreSQL may lack contrib or the right to create it)
/// and is the same wherever cx runs; for ASCII names it equals `pg_trgm`'s `similarity()`
/// (checked by the tests where the extension is installed).
///
/// See docs/sql-guide.md, "Duplicate customers".
enum Migration0015DuplicateCustomers {
    static let migration = Migration(version: 15, name: "duplicate customers", sql: #"""
        -- The words of a name or a city: runs of characters other than ASCII punctuation, spaces and
        -- controls, ASCII letters lower-cased (DuplicateFinder.words).
        CREATE FUNCTION cx.duplicate_words(t text) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT array_remove(regexp_split_to_array(translate(t, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
                                                      '[\x01-\x2F\x3A-\x40\x5B-\x60\x7B-\x7F]+'), '')
        $$;

        -- The distinct trigrams of a name: each word padded as '  word ' (DuplicateFinder.trigrams).
        CREATE FUNCTION cx.duplicate_trigrams(t text) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce(array_agg(DISTINCT substr('  ' || w || ' ', i, 3)), '{}')
            FROM unnest(cx.duplicate_words(t)) AS w CROSS JOIN LATERAL generate_series(1, char_length(w) + 1) AS i
        $$;

        -- The email compared: ASCII letters lower-cased (DuplicateFinder.emailKey).
        CREATE FUNCTION cx.duplicate_email_key(email text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT nullif(translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '')
        $$;

        -- The phone compared: the last 9 of its ASCII digits, NULL under 7 digits, so a leading
        -- + or 00 and country code or a national 0 do not matter (DuplicateFinder.phoneKey).
        CREATE FUNCTION cx.duplicate_phone_key(phone text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE WHEN char_length(d) >= 7 THEN right(d, 9) END
            FROM (SELECT regexp_replace(phone, '[^0-9]', '', 'g') AS d) AS digits
        $$;

        -- The city compared: its words joined by one space (DuplicateFinder.cityKey).
        CREATE FUNCTION cx.duplicate_city_key(city text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT nullif(array_to_string(cx.duplicate_words(city), ' '), '')
        $$;

        -- Shared and total distinct trigrams of two names: {shared, union}.
        CREATE FUNCTION cx.duplicate_name_overlap(a text, b text) RETURNS integer[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT ARRAY[shared, cardinality(ta) + cardinality(tb) - shared]
            FROM (SELECT cx.duplicate_trigrams(a) AS ta, cx.duplicate_trigrams(b) AS tb) AS t
            CROSS JOIN LATERAL (SELECT count(*)::integer AS shared FROM unnest(ta) AS g WHERE g = ANY (tb)) AS s
        $$;

        -- Trigram similarity of two names, 3 decimals, rounded half up (pg_trgm's similarity() for
        -- ASCII names); 0 when neither has a word.
        CREATE FUNCTION cx.duplicate_name_similarity(a text, b text) RETURNS numeric
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE WHEN o[2] = 0 THEN 0.000 ELSE round(o[1]::numeric / o[2], 3) END
            FROM (SELECT cx.duplicate_name_overlap(a, b) AS o) AS x
        $$;

        -- Likely duplicate customers, one row per pair (customer_id < duplicate_id), with every reason
        -- that holds ('email', 'phone', 'name' in that order) and the names' similarity when both
        -- are in the same city. Deleted customers are left out. Names are compared within a city
        -- through their rarest trigrams (prefix filtering, as DuplicateFinder.similarNames), then
        -- measured exactly: similar when shared trigrams are at least half of all.
        CREATE VIEW cx.duplicate_candidates AS
        WITH live AS (
            SELECT c.id, c.name, cx.duplicate_email_key(c.email) AS email_key, cx.duplicate_phone_key(c.phone) AS phone_key,
                   cx.duplicate_city_key(c.city) AS city_key, cx.duplicate_trigrams(c.name) AS grams
            FROM cx.customers AS c WHERE NOT c.deleted
        ), grams AS (
            SELECT l.id, l.city_key, g.t, cardinality(l.grams) AS n
            FROM live AS l CROSS JOIN LATERAL unnest(l.grams) AS g(t) WHERE l.city_key IS NOT NULL
        ), counted AS (
            SELECT g.id, g.city_key, g.t, g.n, count(*) OVER (PARTITION BY g.city_key, g.t) AS f FROM grams AS g
        ), prefix AS (
            SELECT r.id, r.city_key, r.t FROM (
                SELECT c.id, c.city_key, c.t, c.n, row_number() OVER (PARTITION BY c.id ORDER BY c.f, c.t COLLATE "C") AS r
                FROM counted AS c
            ) AS r
            WHERE r.r <= r.n - (r.n + 1) / 2 + 1
        ), named AS (
            SELECT p.a, p.b FROM (
                SELECT DISTINCT x.id AS a, y.id AS b FROM prefix AS x
                JOIN prefix AS y ON y.city_key = x.city_key AND y.t = x.t AND x.id < y.id
            ) AS p
            JOIN live AS la ON la.id = p.a JOIN live AS lb ON lb.id = p.b
            CROSS JOIN LATERAL (SELECT count(*) AS shared FROM unnest(la.grams) AS g WHERE g = ANY (lb.grams)) AS m
            WHERE m.shared * 2 >= cardinality(la.grams) + cardinality(lb.grams) - m.shared AND cardinality(la.grams) + cardinality(lb.grams) > 0
        ), reasons AS (
            SELECT a.id AS a, b.id AS b, 1 AS position, 'email' AS reason
            FROM live AS a JOIN live AS b ON b.email_key = a.email_key AND a.id < b.id
            UNION ALL
            SELECT a.id, b.id, 2, 'phone' FROM live AS a JOIN live AS b ON b.phone_key = a.phone_key AND a.id < b.id
            UNION ALL
            SELECT a, b, 3, 'name' FROM named
        )
        SELECT r.a AS customer_id, r.b AS duplicate_id, array_agg(r.reason ORDER BY r.position) AS reasons,
               CASE WHEN la.city_key = lb.city_key THEN cx.duplicate_name_similarity(la.name, lb.name) END AS name_similarity,
               la.name AS customer_name, lb.name AS duplicate_name
        FROM reasons AS r JOIN live AS la ON la.id = r.a JOIN live AS lb ON lb.id = r.b
        GROUP BY r.a, r.b, la.city_key, lb.city_key, la.name, lb.name
        ORDER BY r.a, r.b;

        GRANT SELECT ON cx.duplicate_candidates TO cx_analyst, cx_editor;

        -- Writes one record for the session's SQL user; as migration 0012, plus operation 'absorb'
        -- (p_fields: another customer's state, merged in as RecordState.absorb does).
        CREATE OR REPLACE FUNCTION cx.sql_write(p_record uuid, p_kind text, p_fields jsonb, p_operation text) RETURNS void
        LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            writer_name text := session_user;
            replica text;
            last_counter bigint;
            at text := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
            record_kind text := p_kind;
            old_state jsonb;
            new_state jsonb;
            clock jsonb;
            deletion text;
            item record;
            value text;
            before jsonb;
            after jsonb;
            audit jsonb;
            new_seq bigint;
            old_customer uuid;
            order_of_fields text[];
            held jsonb;     -- absorb: the register held here
            entries jsonb;  -- absorb: its entries after
            source jsonb;   -- absorb: the other record's entry of the value written
        BEGIN
            PERFORM pg_advisory_xact_lock(427222590833);  -- RecordStore.sequenceLockKey ("cxseq")

            -- The writer's replica, registered like every other replica.
            SELECT w.replica_id, w.counter INTO replica, last_counter FROM cx.sql_writers AS w WHERE w.role_name = writer_name FOR UPDATE;
            IF NOT FOUND THEN
                replica := 'sql:' || normalize(writer_name, NFC);
                IF EXISTS (SELECT 1 FROM cx.replicas AS r WHERE r.replica_id = replica) THEN
                    replica := replica || '.' || substr(md5(random()::text || clock_timestamp()::text), 1, 8);
                END IF;
                INSERT INTO cx.sql_writers (role_name, replica_id) VALUES (writer_name, replica);
                INSERT INTO cx.replicas (replica_id, user_id, user_name) VALUES (replica, NULL, writer_name);
                last_counter := 0;
            END IF;

            -- The record, locked until the end of the transaction.
            IF record_kind IS NULL THEN
                SELECT c.state INTO old_state FROM cx.customers AS c WHERE c.id = p_record FOR UPDATE;
                IF FOUND THEN
                    record_kind := 'customer';
                ELSE
                    SELECT a.state INTO old_state FROM cx.activities AS a WHERE a.id = p_record FOR UPDATE;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'no record %', p_record USING ERRCODE = 'no_data_found';
                    END IF;
                    record_kind := 'activity';
                END IF;
                new_state := old_state;
            ELSE
                new_state := jsonb_build_object('id', p_record::text, 'kind', record_kind, 'clock', '{}'::jsonb, 'fields', '{}'::jsonb,
                                          'tags', '{}'::jsonb, 'deletion', '[]'::jsonb);
            END IF;
            clock := new_state -> 'clock';
            last_counter := greatest(last_counter, coalesce((clock ->> replica)::bigint, 0));
            deletion := cx.state_deletion(new_state);

            IF p_operation IN ('set', 'resolve') THEN
                IF deletion = 'deleted' THEN
                    RAISE EXCEPTION 'record % is deleted; edits to deleted records are refused', p_record
                        USING ERRCODE = 'object_not_in_prerequisite_state',
                              HINT = 'cx.resolve(record, ''deleted'', ''keep'') restores it only while a delete conflict is open';
                END IF;
                IF jsonb_typeof(p_fields) IS DISTINCT FROM 'object' OR p_fields = '{}' THEN
                    RAISE EXCEPTION 'fields must be a JSON object of field names and values, e.g. {"phone": "555-0100"}'
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                FOR item IN SELECT f.key, f.value FROM jsonb_each(p_fields) AS f ORDER BY f.key COLLATE "C" LOOP
                    value := CASE jsonb_typeof(item.value)
                        WHEN 'string' THEN item.value #>> '{}'
                        WHEN 'number' THEN item.value #>> '{}'
                        WHEN 'null' THEN NULL
                        ELSE cx.sql_write_refuse(item.key, item.value)
                    END;
                    value := cx.normalize_field(record_kind, item.key, value);
                    IF p_operation = 'resolve' AND NOT EXISTS (
                        SELECT 1 FROM cx.state_conflicts(old_state) AS c WHERE c.field = item.key) THEN
                        RAISE EXCEPTION '% of % is not in conflict', item.key, p_record
                            USING ERRCODE = 'object_not_in_prerequisite_state';
                    END IF;
                    -- A new record skips unset fields, like RecordState.new.
                    CONTINUE WHEN old_state IS NULL AND value IS NULL;
                    last_counter := last_counter + 1;
                    new_state := jsonb_set(new_state, ARRAY['fields', item.key], jsonb_build_array(jsonb_build_object(
                        'value', to_jsonb(value), 'dot', jsonb_build_array(replica, last_counter), 'at', at, 'user', writer_name)));
                END LOOP;
            ELSIF p_operation = 'delete' THEN
                IF deletion = 'deleted' THEN
                    RAISE NOTICE 'record % is already deleted', p_record;
                    RETURN;
                END IF;
                last_counter := last_counter + 1;
                new_state := jsonb_set(new_state, '{deletion}', jsonb_build_array(jsonb_build_object(
                    'deleted', true, 'seen', clock, 'dot', jsonb_build_array(replica, last_counter), 'at', at, 'user', writer_name)));
            ELSIF p_operation = 'absorb' THEN
                -- RecordState.absorb (RecordState+Absorb.swift): p_fields is another customer's state;
                -- each of its values this record lacks gets a fresh dot, filling a gap (no value
                -- here) or standing beside the values here as a conflict; its tags are added.
                IF deletion = 'deleted' THEN
                    RAISE EXCEPTION 'record % is deleted; edits to deleted records are refused', p_record
                        USING ERRCODE = 'object_not_in_prerequisite_state';
                END IF;
                FOR item IN SELECT f.key, f.value FROM jsonb_each(p_fields -> 'fields') AS f
                            WHERE f.key <> 'extra.merged_into' ORDER BY f.key COLLATE "C" LOOP
                    held := coalesce(new_state -> 'fields' -> item.key, '[]'::jsonb);
                    entries := CASE WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(held) AS h WHERE jsonb_typeof(h -> 'value') = 'string')
                                  THEN held ELSE '[]'::jsonb END;
                    source := NULL;
                    FOR value, source IN
                        SELECT d.e ->> 'value', d.e FROM (
                            SELECT DISTINCT ON (e -> 'value') e
                            FROM jsonb_array_elements(item.value) AS e
                            WHERE jsonb_typeof(e -> 'value') = 'string'
                            ORDER BY e -> 'value', e ->> 'at' COLLATE "C" DESC, (e -> 'dot' ->> 0) COLLATE "C" DESC, (e -> 'dot' ->> 1)::bigint DESC
                        ) AS d
                        WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(held) AS h WHERE h -> 'value' = d.e -> 'value')
                        ORDER BY d.e ->> 'at' COLLATE "C" DESC, (d.e -> 'dot' ->> 0) COLLATE "C" DESC, (d.e -> 'dot' ->> 1)::bigint DESC
                    LOOP
                        last_counter := last_counter + 1;
                        entries := entries || jsonb_build_array(
                            jsonb_build_object('value', to_jsonb(value), 'dot', jsonb_build_array(replica, last_counter), 'at', source -> 'at')
                            || CASE WHEN source ? 'user' THEN jsonb_build_object('user', source -> 'user') ELSE '{}'::jsonb END);
                    END LOOP;
                    CONTINUE WHEN source IS NULL;
                    SELECT jsonb_agg(e ORDER BY (e -> 'dot' ->> 0) COLLATE "C", (e -> 'dot' ->> 1)::bigint) INTO entries
                    FROM jsonb_array_elements(entries) AS e;
                    new_state := jsonb_set(new_state, ARRAY['fields', item.key], entries);
                END LOOP;
                FOR item IN SELECT t.key, t.value FROM jsonb_each(p_fields -> 'tags') AS t
                            WHERE NOT (new_state -> 'tags') ? t.key ORDER BY t.key COLLATE "C" LOOP
                    last_counter := last_counter + 1;
                    new_state := jsonb_set(new_state, ARRAY['tags', item.key], jsonb_build_array(jsonb_build_array(replica, last_counter)));
                END LOOP;
            ELSIF p_operation = 'restore' THEN
                last_counter := last_counter + 1;
                new_state := jsonb_set(new_state, '{deletion}', jsonb_build_array(jsonb_build_object(
                    'deleted', false, 'seen', '{}'::jsonb, 'dot', jsonb_build_array(replica, last_counter), 'at', at, 'user', writer_name)));
            END IF;
            new_state := jsonb_set(new_state, '{clock}', clock || jsonb_build_object(replica, last_counter));
            IF old_state IS NULL THEN
                PERFORM cx.sql_write_check_complete(new_state);
            ELSIF record_kind = 'activity' AND p_operation IN ('set', 'resolve') THEN
                -- An edit is held to the rules of credit notes, as a push's merged state is.
                PERFORM cx.check_credit_note(new_state);
            END IF;

            before := CASE WHEN old_state IS NULL THEN '{}'::jsonb ELSE cx.state_row_values(old_state) END;
            after := cx.state_row_values(new_state);
            IF record_kind = 'customer' THEN
                INSERT INTO cx.customers (id, name, company, email, phone, address, city, country, territory, owner, segment, notes,
                                          tags, extra, has_conflicts, deleted, seq, state)
                SELECT p_record, r.name, r.company, r.email, r.phone, r.address, r.city, r.country, r.territory, r.owner, r.segment, r.notes,
                       cx.state_tags(new_state), cx.state_extra(new_state), cx.state_has_conflicts(new_state), cx.state_deletion(new_state) = 'deleted',
                       nextval('cx.change_seq'), new_state
                FROM jsonb_to_record(after) AS r(name text, company text, email text, phone text, address text, city text, country text,
                                                 territory text, owner text, segment text, notes text)
                ON CONFLICT (id) DO UPDATE SET
                    name = excluded.name, company = excluded.company, email = excluded.email, phone = excluded.phone,
                    address = excluded.address, city = excluded.city, country = excluded.country, territory = excluded.territory,
                    owner = excluded.owner, segment = excluded.segment, notes = excluded.notes, tags = excluded.tags,
                    extra = excluded.extra, has_conflicts = excluded.has_conflicts, deleted = excluded.deleted, seq = excluded.seq,
                    state = excluded.state, updated_at = now()
                RETURNING seq INTO new_seq;
                -- A move: the territory left is told to drop the customer, and its activities follow
                -- it to the new territory (as a push does, PushWrites.swift).
                IF old_state IS NULL OR (before ->> 'territory') IS DISTINCT FROM (after ->> 'territory') THEN
                    IF old_state IS NOT NULL AND before ->> 'territory' IS NOT NULL THEN
                        INSERT INTO cx.territory_exits (customer_id, territory, seq)
                        VALUES (p_record, before ->> 'territory', nextval('cx.change_seq'))
                        ON CONFLICT (customer_id, territory) DO UPDATE SET seq = excluded.seq, exited_at = now();
                    END IF;
                    UPDATE cx.activities SET seq = nextval('cx.change_seq') WHERE customer_id = p_record;
                END IF;
                order_of_fields := ARRAY['name', 'company', 'email', 'phone', 'address', 'city', 'country', 'territory', 'owner',
                                         'segment', 'notes'];
            ELSE
                INSERT INTO cx.activities (id, customer_id, type, "on", amount, margin, due_on, paid_on, reference,
                                           referred_customer_id, referred_name, note, channel, nps, credits,
                                           tags, extra, has_conflicts, deleted, seq, state)
                SELECT p_record, r.customer_id, r.type, r."on", r.amount, r.margin, r.due_on, r.paid_on, r.reference,
                       r.referred_customer_id, r.referred_name, r.note, r.channel, r.nps, r.credits,
                       cx.state_tags(new_state), cx.state_extra(new_state), cx.state_has_conflicts(new_state), cx.state_deletion(new_state) = 'deleted',
                       nextval('cx.change_seq'), new_state
                FROM jsonb_to_record(after) AS r(customer_id uuid, type text, "on" date, amount numeric, margin numeric, due_on date,
                                                 paid_on date, reference text, referred_customer_id uuid, referred_name text,
                                                 note text, channel text, nps smallint, credits uuid)
                ON CONFLICT (id) DO UPDATE SET
                    customer_id = excluded.customer_id, type = excluded.type, "on" = excluded."on", amount = excluded.amount,
                    margin = excluded.margin, due_on = excluded.due_on, paid_on = excluded.paid_on, reference = excluded.reference,
                    referred_customer_id = excluded.referred_customer_id, referred_name = excluded.referred_name,
                    note = excluded.note, channel = excluded.channel, nps = excluded.nps, credits = excluded.credits, tags = excluded.tags,
                    extra = excluded.extra, has_conflicts = excluded.has_conflicts, deleted = excluded.deleted, seq = excluded.seq,
                    state = excluded.state, updated_at = now()
                RETURNING seq INTO new_seq;
                -- An activity moved to another customer leaves the territory of the one it left.
                IF old_state IS NOT NULL AND before ->> 'customer_id' IS NOT NULL
                    AND (before ->> 'customer_id') IS DISTINCT FROM (after ->> 'customer_id') THEN
                    old_customer := (before ->> 'customer_id')::uuid;
                    INSERT INTO cx.activity_exits (activity_id, territory, seq)
                    SELECT p_record, c.territory, nextval('cx.change_seq') FROM cx.customers AS c
                    WHERE c.id = old_customer AND c.territory IS NOT NULL
                    ON CONFLICT (activity_id, territory) DO UPDATE SET seq = excluded.seq, exited_at = now();
                END IF;
                order_of_fields := ARRAY['customer_id', 'type', 'on', 'amount', 'margin', 'due_on', 'paid_on', 'reference',
                                         'referred_customer_id', 'referred_name', 'note', 'channel', 'nps', 'credits'];
            END IF;

            -- The audit row: displayed values that changed, fixed fields in schema order, then
            -- extra.* by name, then tags and deleted (AuditEntry.swift).
            SELECT coalesce(jsonb_agg(jsonb_build_object('field', n.name, 'from', before -> n.name, 'to', after -> n.name) ORDER BY n.position, n.name COLLATE "C"), '[]')
            INTO audit
            FROM (
                SELECT u.name, u.position FROM unnest(order_of_fields) WITH ORDINALITY AS u(name, position)
                UNION ALL
                SELECT DISTINCT k, 1000 FROM (SELECT jsonb_object_keys(before) UNION ALL SELECT jsonb_object_keys(after)) AS keys(k)
                WHERE k LIKE 'extra.%'
                UNION ALL SELECT 'tags', 2000
                UNION ALL SELECT 'deleted', 2001
            ) AS n
            WHERE (before -> n.name) IS DISTINCT FROM (after -> n.name);
            INSERT INTO cx.changes (record_id, kind, operation, user_id, user_name, replica_id, fields, has_conflicts, seq)
            VALUES (p_record, record_kind, CASE WHEN old_state IS NULL THEN 'insert' ELSE 'update' END, NULL, writer_name, replica,
                    audit, cx.state_has_conflicts(new_state), new_seq);

            UPDATE cx.sql_writers AS w SET counter = last_counter, last_write_at = now() WHERE w.role_name = writer_name;
            UPDATE cx.replicas AS r SET last_seen_at = now() WHERE r.replica_id = replica;
        END
        $$;


        -- Merges customer `drop` into customer `keep`, as DuplicateMerge does on a laptop: `keep`
        -- absorbs `drop`'s fields (gaps filled; a different value stands beside keep's as a
        -- conflict, never chosen silently) and tags; `drop` gets extra.merged_into = keep and a
        -- tombstone; every activity of `drop` that is not deleted moves to `keep`. Each step is an
        -- audited write of the session user's replica. Returns {"kept", "dropped", "moved",
        -- "conflicts": [field…]}.
        CREATE FUNCTION cx.merge_customers(keep uuid, drop uuid) RETURNS jsonb
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            keep_state jsonb;
            drop_state jsonb;
            survivor text;
            activity uuid;
            moved integer := 0;
        BEGIN
            IF keep IS NULL OR drop IS NULL THEN
                RAISE EXCEPTION 'name the customer to keep and the one to merge into it' USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF keep = drop THEN
                RAISE EXCEPTION 'cannot merge customer % into itself; name two different customers', keep
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            PERFORM pg_advisory_xact_lock(427222590833);  -- RecordStore.sequenceLockKey, as cx.sql_write
            SELECT c.state INTO keep_state FROM cx.customers AS c WHERE c.id = keep FOR UPDATE;
            SELECT c.state INTO drop_state FROM cx.customers AS c WHERE c.id = drop FOR UPDATE;
            IF keep_state IS NULL OR drop_state IS NULL THEN
                RAISE EXCEPTION 'no customer %', CASE WHEN keep_state IS NULL THEN keep ELSE drop END USING ERRCODE = 'no_data_found';
            END IF;
            survivor := cx.state_displayed(drop_state) ->> 'extra.merged_into';
            IF survivor IS NOT NULL AND cx.state_deletion(drop_state) <> 'live' THEN
                RAISE EXCEPTION 'customer % was already merged into %', drop, survivor USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
            survivor := cx.state_displayed(keep_state) ->> 'extra.merged_into';
            IF survivor IS NOT NULL AND cx.state_deletion(keep_state) <> 'live' THEN
                RAISE EXCEPTION 'customer % was merged into %; keep that one instead', keep, survivor
                    USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
            IF cx.state_deletion(keep_state) = 'deleted' OR cx.state_deletion(drop_state) = 'deleted' THEN
                RAISE EXCEPTION 'customer % is deleted; restore it first or merge live customers',
                    CASE WHEN cx.state_deletion(keep_state) = 'deleted' THEN keep ELSE drop END
                    USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;

            PERFORM cx.sql_write(keep, NULL, drop_state, 'absorb');
            PERFORM cx.sql_write(drop, NULL, jsonb_build_object('extra.merged_into', keep::text), 'set');
            PERFORM cx.sql_write(drop, NULL, NULL, 'delete');
            FOR activity IN SELECT a.id FROM cx.activities AS a WHERE a.customer_id = drop AND NOT a.deleted ORDER BY a.id LOOP
                PERFORM cx.sql_write(activity, NULL, jsonb_build_object('customer_id', keep::text), 'set');
                moved := moved + 1;
            END LOOP;
            RETURN jsonb_build_object(
                'kept', keep, 'dropped', drop, 'moved', moved,
                'conflicts', (SELECT coalesce(jsonb_agg(c.field ORDER BY c.field COLLATE "C"), '[]')
                              FROM cx.customers AS k CROSS JOIN LATERAL cx.state_conflicts(k.state) AS c WHERE k.id = keep));
        END
        $$;

        REVOKE EXECUTE ON FUNCTION cx.merge_customers(uuid, uuid) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION cx.merge_customers(uuid, uuid) TO cx_editor;
        """#)
}
