/// Merging a duplicate keeps a clear that stands in conflict with values on the duplicate
/// (issue 13, found by the fault suite, seed 610000): `cx.sql_write`'s `absorb` operation (used by
/// `cx.merge_customers`) took only the duplicate's values, so a field the duplicate showed as
/// "x@example.com, or cleared" came out on the survivor as "x@example.com" alone — the clear
/// chosen away silently. As `RecordState.absorb` now does, the first such clear (in display
/// order) is written beside the values as an empty candidate, unless the survivor already shows
/// a clear among its values. The function is migration 0015's otherwise.
enum Migration0017MergeKeepsClears {
    static let migration = Migration(version: 17, name: "merges keep a clear in conflict", sql: #"""
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
            clear_entry jsonb;  -- absorb: the other record's first clear standing among its values
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
                    -- A clear in conflict with values on the other record is someone's edit too:
                    -- it stands beside them here as an empty candidate, unless this record
                    -- already shows a clear among its values (RecordState.absorb, migration 0017).
                    clear_entry := NULL;
                    IF EXISTS (SELECT 1 FROM jsonb_array_elements(item.value) AS e WHERE jsonb_typeof(e -> 'value') = 'string') THEN
                        SELECT e INTO clear_entry FROM jsonb_array_elements(item.value) AS e
                        WHERE jsonb_typeof(e -> 'value') IS DISTINCT FROM 'string'
                        ORDER BY e ->> 'at' COLLATE "C" DESC, (e -> 'dot' ->> 0) COLLATE "C" DESC, (e -> 'dot' ->> 1)::bigint DESC
                        LIMIT 1;
                    END IF;
                    IF clear_entry IS NOT NULL AND (
                        NOT EXISTS (SELECT 1 FROM jsonb_array_elements(held) AS h WHERE jsonb_typeof(h -> 'value') = 'string')
                        OR NOT EXISTS (SELECT 1 FROM jsonb_array_elements(held) AS h WHERE jsonb_typeof(h -> 'value') IS DISTINCT FROM 'string'))
                    THEN
                        last_counter := last_counter + 1;
                        entries := entries || jsonb_build_array(
                            jsonb_build_object('value', NULL::jsonb, 'dot', jsonb_build_array(replica, last_counter), 'at', clear_entry -> 'at')
                            || CASE WHEN clear_entry ? 'user' THEN jsonb_build_object('user', clear_entry -> 'user') ELSE '{}'::jsonb END);
                        source := clear_entry;
                    END IF;
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
        """#)
}
