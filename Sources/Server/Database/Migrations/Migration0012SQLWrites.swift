/// The SQL write API for the central team (`cx_editor`), each call one audited write by the
/// session user's server replica (`sql:<role>`, registered in `cx.replicas`, its counter kept
/// in `cx.sql_writers`):
/// - `cx.set_field`, `cx.set_fields`, `cx.add_customer`, `cx.add_activity`,
///   `cx.delete_record`, `cx.resolve` (SECURITY DEFINER, executable by `cx_editor` only);
/// - `cx.normalize_field`: the Model's value rules (`Schema.swift`) in SQL, raising 22023
///   naming the field; `cx.sql_write`: the write itself, under the push's sequence lock
///   (`RecordStore.sequenceLockKey`), with the typed columns, territory and activity exits,
///   re-sequenced activities and the audit row a push would write (`PushWrites.swift`);
/// - the role `cx_editor` (NOLOGIN; reads the records and their conflicts, writes no table).
///
/// See docs/sql-guide.md, "Writing from SQL".
enum Migration0012SQLWrites {
    static let migration = Migration(version: 12, name: "SQL write API", sql: #"""
        -- Checks `value` for `field` of a `kind` record and returns its canonical text, with the
        -- Model's rules (Schema.swift); raises 22023 naming the field otherwise. NULL unsets.
        -- Documented subset: email addresses are refused when a character beyond U+02FF touches their
        -- '@' or a '.', and when their local part has more than 64 code points (cx counts characters).
        CREATE FUNCTION cx.normalize_field(kind text, field text, value text) RETURNS text
        LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            -- Unicode White_Space, as Swift's Character.isWhitespace.
            space constant text := '[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]';
            field_type text;
            limit_length integer := 10000;
            known text;
            v text;
            number numeric;
            y integer; m integer; d integer;
        BEGIN
            field_type := CASE kind
                WHEN 'customer' THEN CASE field
                    WHEN 'name' THEN 'required_text' WHEN 'email' THEN 'email'
                    WHEN 'company' THEN 'text' WHEN 'phone' THEN 'text' WHEN 'address' THEN 'text' WHEN 'city' THEN 'text'
                    WHEN 'country' THEN 'text' WHEN 'territory' THEN 'text' WHEN 'owner' THEN 'text' WHEN 'segment' THEN 'text'
                    WHEN 'notes' THEN 'text' END
                WHEN 'activity' THEN CASE field
                    WHEN 'customer_id' THEN 'record_id' WHEN 'referred_customer_id' THEN 'record_id'
                    WHEN 'type' THEN 'type' WHEN 'channel' THEN 'channel'
                    WHEN 'on' THEN 'date' WHEN 'due_on' THEN 'date' WHEN 'paid_on' THEN 'date'
                    WHEN 'amount' THEN 'amount' WHEN 'margin' THEN 'fraction' WHEN 'nps' THEN 'score'
                    WHEN 'reference' THEN 'text' WHEN 'referred_name' THEN 'text' WHEN 'note' THEN 'text' END
            END;
            IF field_type IS NULL AND field LIKE 'extra.%' THEN
                IF field !~ '^extra\.[A-Za-z0-9_.-]{1,64}$' THEN
                    RAISE EXCEPTION '%: extra field keys must be 1–64 letters, digits, ''_'', ''-'' or ''.''', field
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                field_type := 'text';
            END IF;
            IF field_type IS NULL THEN
                known := CASE kind
                    WHEN 'customer' THEN 'name, company, email, phone, address, city, country, territory, owner, segment, notes'
                    ELSE 'customer_id, type, on, amount, margin, due_on, paid_on, reference, referred_customer_id, referred_name, note, channel, nps' END;
                RAISE EXCEPTION '%: unknown % field; use one of %, or extra.<key>', field, kind, known
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF field IN ('territory', 'owner', 'segment', 'email', 'phone', 'city', 'country', 'reference') THEN
                limit_length := 200;
            END IF;

            IF value IS NULL THEN
                IF field_type = 'required_text' OR (kind = 'activity' AND field IN ('customer_id', 'type', 'on')) THEN
                    RAISE EXCEPTION '%: is required and cannot be unset', field USING ERRCODE = 'invalid_parameter_value';
                END IF;
                RETURN NULL;
            END IF;

            CASE field_type
            WHEN 'text', 'required_text' THEN
                v := normalize(value, NFC);
                IF field_type = 'required_text' AND v ~ ('^' || space || '*$') THEN
                    RAISE EXCEPTION '%: is required and cannot be empty', field USING ERRCODE = 'invalid_parameter_value';
                END IF;
                IF char_length(v) > limit_length THEN
                    RAISE EXCEPTION '%: is longer than % characters (Unicode code points); shorten it or put long text in notes', field, limit_length
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                RETURN v;
            WHEN 'email' THEN
                v := normalize(regexp_replace(value, '^' || space || '+|' || space || '+$', '', 'g'), NFC);
                IF char_length(v) > limit_length THEN
                    RAISE EXCEPTION '%: is longer than % characters (Unicode code points); shorten it or put long text in notes', field, limit_length
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                IF v !~ '^[^@]{1,64}@[^@]+$'
                    OR split_part(v, '@', 2) !~ '^[^.].*\..*[^.]$' OR strpos(split_part(v, '@', 2), '..') > 0
                    OR v ~ (space || '|[\u0001-\u001F]')
                    OR v ~ '[^\u0001-\u02FF][@.]|[@.][^\u0001-\u02FF]'
                THEN
                    RAISE EXCEPTION '%: ''%'' is not an email address (expected name@example.com)', field, value
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                RETURN v;
            WHEN 'record_id' THEN
                IF octet_length(value) <> 36 OR value !~ '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$' THEN
                    RAISE EXCEPTION '%: ''%'' is not a record id (a UUID)', field, value USING ERRCODE = 'invalid_parameter_value';
                END IF;
                RETURN lower(value);
            WHEN 'date' THEN
                IF octet_length(value) = 10 AND value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
                    y := substr(value, 1, 4)::integer;
                    m := substr(value, 6, 2)::integer;
                    d := substr(value, 9, 2)::integer;
                    IF y >= 1 AND m BETWEEN 1 AND 12 AND d >= 1
                        AND d <= extract(day FROM make_date(y, m, 1) + interval '1 month' - interval '1 day') THEN
                        RETURN value;
                    END IF;
                END IF;
                RAISE EXCEPTION '%: ''%'' is not a date (expected YYYY-MM-DD)', field, value USING ERRCODE = 'invalid_parameter_value';
            WHEN 'amount' THEN
                IF value ~ '^-?[0-9]{1,13}(\.[0-9]{1,2})?$' THEN
                    number := value::numeric;
                    IF number > 0 THEN RETURN number::numeric(16, 2)::text; END IF;
                END IF;
                RAISE EXCEPTION '%: ''%'' is not an amount (expected a decimal > 0 with at most 2 places, e.g. 120.00)', field, value
                    USING ERRCODE = 'invalid_parameter_value';
            WHEN 'fraction' THEN
                IF value ~ '^-?[0-9]{1,9}(\.[0-9]{1,4})?$' THEN
                    number := value::numeric;
                    IF number BETWEEN -1 AND 1 THEN RETURN trim_scale(number)::text; END IF;
                END IF;
                RAISE EXCEPTION '%: ''%'' is not a margin (expected a fraction between -1 and 1, e.g. 0.12)', field, value
                    USING ERRCODE = 'invalid_parameter_value';
            WHEN 'score' THEN
                IF octet_length(value) <= 2 AND value ~ '^[+-]?[0-9]+$' AND value::integer BETWEEN 0 AND 10 THEN
                    RETURN value::integer::text;
                END IF;
                RAISE EXCEPTION '%: ''%'' is not a score (expected a whole number 0–10)', field, value USING ERRCODE = 'invalid_parameter_value';
            WHEN 'type' THEN
                IF value IN ('purchase', 'referral', 'touchpoint') THEN RETURN value; END IF;
                RAISE EXCEPTION '%: ''%'' is not one of purchase, referral, touchpoint', field, value USING ERRCODE = 'invalid_parameter_value';
            WHEN 'channel' THEN
                IF value IN ('visit', 'call', 'email', 'meeting', 'other') THEN RETURN value; END IF;
                RAISE EXCEPTION '%: ''%'' is not one of visit, call, email, meeting, other', field, value USING ERRCODE = 'invalid_parameter_value';
            END CASE;
        END
        $$;

        -- Raises the error for a field value that is neither a string, a number nor null.
        CREATE FUNCTION cx.sql_write_refuse(field text, value jsonb) RETURNS text
        LANGUAGE plpgsql IMMUTABLE AS $$
        BEGIN
            RAISE EXCEPTION '%: expected a string, a number or null, got %', field, value USING ERRCODE = 'invalid_parameter_value';
        END
        $$;

        -- Checks that a new record has what its kind requires (RecordState.validateComplete).
        CREATE FUNCTION cx.sql_write_check_complete(state jsonb) RETURNS void
        LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            shown jsonb := cx.state_displayed(state);
            missing text;
        BEGIN
            IF state ->> 'kind' = 'customer' THEN
                IF NOT shown ? 'name' THEN
                    RAISE EXCEPTION 'name: a customer needs a name' USING ERRCODE = 'invalid_parameter_value';
                END IF;
                RETURN;
            END IF;
            SELECT f INTO missing FROM unnest(ARRAY['customer_id', 'type', 'on']) AS f WHERE NOT shown ? f LIMIT 1;
            IF missing IS NOT NULL THEN
                RAISE EXCEPTION '%: an activity needs %', missing, missing USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF shown ->> 'type' = 'purchase' AND NOT shown ? 'amount' THEN
                RAISE EXCEPTION 'amount: a purchase needs an amount' USING ERRCODE = 'invalid_parameter_value';
            ELSIF shown ->> 'type' = 'touchpoint' AND NOT shown ? 'channel' THEN
                RAISE EXCEPTION 'channel: a touchpoint needs a channel' USING ERRCODE = 'invalid_parameter_value';
            ELSIF shown ->> 'type' = 'referral' AND NOT shown ? 'referred_customer_id' AND NOT shown ? 'referred_name' THEN
                RAISE EXCEPTION 'referred_name: a referral needs the referred customer or a name' USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF NOT EXISTS (SELECT 1 FROM cx.customers AS c WHERE c.id = (shown ->> 'customer_id')::uuid AND NOT c.deleted) THEN
                RAISE EXCEPTION 'customer_id: no customer %', shown ->> 'customer_id' USING ERRCODE = 'foreign_key_violation';
            END IF;
        END
        $$;

        -- The server replica of each SQL user that writes: its id and the last counter it used, so a
        -- dot (replica, counter) names one write forever.
        CREATE TABLE cx.sql_writers (
            role_name      text PRIMARY KEY,
            replica_id     text NOT NULL UNIQUE,
            counter        bigint NOT NULL DEFAULT 0 CHECK (counter >= 0),
            first_write_at timestamptz NOT NULL DEFAULT now(),
            last_write_at  timestamptz NOT NULL DEFAULT now()
        );

        -- Writes one record on behalf of the session's SQL user, as a write of its own server
        -- replica: the sequence lock of every push, a new dot per field, the typed columns, the
        -- territory and activity exits, the audit row and a new sequence number.
        --   kind:      'customer' or 'activity' to create the record, NULL to change a stored one;
        --   fields:    {"field": "value" | number | null, …}, checked by cx.normalize_field;
        --   operation: 'set', 'delete', 'restore' or 'resolve' (fields must be in conflict).
        CREATE FUNCTION cx.sql_write(p_record uuid, p_kind text, p_fields jsonb, p_operation text) RETURNS void
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
            ELSIF p_operation = 'restore' THEN
                last_counter := last_counter + 1;
                new_state := jsonb_set(new_state, '{deletion}', jsonb_build_array(jsonb_build_object(
                    'deleted', false, 'seen', '{}'::jsonb, 'dot', jsonb_build_array(replica, last_counter), 'at', at, 'user', writer_name)));
            END IF;
            new_state := jsonb_set(new_state, '{clock}', clock || jsonb_build_object(replica, last_counter));
            IF old_state IS NULL THEN
                PERFORM cx.sql_write_check_complete(new_state);
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
                                           referred_customer_id, referred_name, note, channel, nps,
                                           tags, extra, has_conflicts, deleted, seq, state)
                SELECT p_record, r.customer_id, r.type, r."on", r.amount, r.margin, r.due_on, r.paid_on, r.reference,
                       r.referred_customer_id, r.referred_name, r.note, r.channel, r.nps,
                       cx.state_tags(new_state), cx.state_extra(new_state), cx.state_has_conflicts(new_state), cx.state_deletion(new_state) = 'deleted',
                       nextval('cx.change_seq'), new_state
                FROM jsonb_to_record(after) AS r(customer_id uuid, type text, "on" date, amount numeric, margin numeric, due_on date,
                                                 paid_on date, reference text, referred_customer_id uuid, referred_name text,
                                                 note text, channel text, nps smallint)
                ON CONFLICT (id) DO UPDATE SET
                    customer_id = excluded.customer_id, type = excluded.type, "on" = excluded."on", amount = excluded.amount,
                    margin = excluded.margin, due_on = excluded.due_on, paid_on = excluded.paid_on, reference = excluded.reference,
                    referred_customer_id = excluded.referred_customer_id, referred_name = excluded.referred_name,
                    note = excluded.note, channel = excluded.channel, nps = excluded.nps, tags = excluded.tags,
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
                                         'referred_customer_id', 'referred_name', 'note', 'channel', 'nps'];
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

        -- The write API. Each call is one write by the session user's server replica.

        -- Sets one field (NULL unsets it) of a customer or an activity.
        CREATE FUNCTION cx.set_field(record uuid, field text, value text) RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            SELECT cx.sql_write($1, NULL, jsonb_build_object($2, $3), 'set')
        $$;

        -- Sets several fields in one write: {"phone": "555-0100", "notes": null, "amount": 99.5}.
        CREATE FUNCTION cx.set_fields(record uuid, fields jsonb) RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            SELECT cx.sql_write($1, NULL, $2, 'set')
        $$;

        -- Creates a customer; returns its id.
        CREATE FUNCTION cx.add_customer(fields jsonb) RETURNS uuid
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            id uuid := gen_random_uuid();
        BEGIN
            PERFORM cx.sql_write(id, 'customer', fields, 'set');
            RETURN id;
        END
        $$;

        -- Creates an activity (purchase, referral or touchpoint) of a stored customer; returns its id.
        -- `on` defaults to today.
        CREATE FUNCTION cx.add_activity(fields jsonb) RETURNS uuid
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            id uuid := gen_random_uuid();
        BEGIN
            IF jsonb_typeof(fields) = 'object' AND NOT fields ? 'on' THEN
                fields := fields || jsonb_build_object('on', current_date::text);
            END IF;
            PERFORM cx.sql_write(id, 'activity', fields, 'set');
            RETURN id;
        END
        $$;

        -- Deletes a record with a tombstone (a concurrent edit elsewhere becomes a keep/delete conflict).
        CREATE FUNCTION cx.delete_record(record uuid) RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            SELECT cx.sql_write($1, NULL, NULL, 'delete')
        $$;

        -- Resolves a conflict: writes `value`, superseding every candidate stored now. For a
        -- delete/edit conflict, field `deleted` and value `keep` or `delete`.
        CREATE FUNCTION cx.resolve(record uuid, field text, value text) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            state jsonb;
        BEGIN
            IF field = 'deleted' THEN
                SELECT s INTO state FROM (
                    SELECT c.state AS s FROM cx.customers AS c WHERE c.id = record
                    UNION ALL SELECT a.state FROM cx.activities AS a WHERE a.id = record) AS both_kinds;
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'no record %', record USING ERRCODE = 'no_data_found';
                END IF;
                IF value IS DISTINCT FROM 'keep' AND value IS DISTINCT FROM 'delete' THEN
                    RAISE EXCEPTION 'deleted: resolve a delete conflict with ''keep'' or ''delete''' USING ERRCODE = 'invalid_parameter_value';
                END IF;
                IF cx.state_deletion(state) <> 'conflicted' THEN
                    RAISE EXCEPTION 'deleted of % is not in conflict', record USING ERRCODE = 'object_not_in_prerequisite_state';
                END IF;
                PERFORM cx.sql_write(record, NULL, NULL, CASE value WHEN 'keep' THEN 'restore' ELSE 'delete' END);
            ELSE
                PERFORM cx.sql_write(record, NULL, jsonb_build_object(field, value), 'resolve');
            END IF;
        END
        $$;

        -- Functions are executable by PUBLIC by default: the write API only by cx_editor.
        REVOKE EXECUTE ON FUNCTION cx.sql_write(uuid, text, jsonb, text), cx.sql_write_check_complete(jsonb),
            cx.set_field(uuid, text, text), cx.set_fields(uuid, jsonb), cx.add_customer(jsonb), cx.add_activity(jsonb),
            cx.delete_record(uuid), cx.resolve(uuid, text, text) FROM PUBLIC;

        -- The central team's editing role. NOLOGIN: grant it to real login roles, usually with
        -- cx_analyst (`GRANT cx_analyst, cx_editor TO alice;`). It may call the write API and read
        -- the records and their conflicts; it has no INSERT, UPDATE or DELETE on any table. (Its
        -- rights are per-database grants, not a role membership: a membership is cluster-wide, and
        -- databases of one cluster may migrate at once.)
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cx_editor') THEN
                CREATE ROLE cx_editor NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END
        $$;
        GRANT USAGE ON SCHEMA cx TO cx_editor;
        GRANT EXECUTE ON FUNCTION cx.set_field(uuid, text, text), cx.set_fields(uuid, jsonb), cx.add_customer(jsonb),
            cx.add_activity(jsonb), cx.delete_record(uuid), cx.resolve(uuid, text, text) TO cx_editor;
        GRANT SELECT ON cx.customers, cx.activities, cx.conflicts, cx.sql_writers TO cx_editor;
        GRANT SELECT ON cx.sql_writers TO cx_analyst;
        """#)
}
