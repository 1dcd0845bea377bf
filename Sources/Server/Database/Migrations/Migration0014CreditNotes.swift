/// Refunds, credit notes and zero-value orders (issue 13, item 3):
/// - the activity field `credits` (the purchase a credit note corrects) in a typed column of
///   `cx.activities` and in the view `cx.purchases`, filled from the states, kept by the push's
///   row encoder (`RecordRowEncoder`, from `Schema.activityFields`) and by `cx.sql_write`;
/// - amounts of any sign in `cx.normalize_field`, and `cx.check_credit_note`: the Model's
///   `RecordState.validateCreditNote` in SQL (a negative amount only on a purchase with
///   `credits`), checked by `cx.add_activity`, `cx.set_field(s)` and `cx.resolve`;
/// - classification, metrics and cohorts counting them as the Model does (docs/sql-guide.md
///   §3–4): credit notes subtract revenue on their own date and are not purchases in the counts;
///   zero-value orders are purchases that add no revenue; only amounts > 0 can be paid late.
///
/// `CREATE OR REPLACE` keeps the functions' grants (`cx_analyst`, `cx_editor`).
enum Migration0014CreditNotes {
    static let migration = Migration(version: 14, name: "credit notes and zero-value orders", sql: #"""
        -- The typed column: the purchase a credit note corrects (the displayed value of `credits`).
        ALTER TABLE cx.activities ADD COLUMN credits uuid;
        UPDATE cx.activities SET credits = (cx.state_displayed(state) ->> 'credits')::uuid
        WHERE state -> 'fields' ? 'credits';
        CREATE INDEX activities_credits ON cx.activities (credits) WHERE credits IS NOT NULL;

        -- Live purchases, credit notes (amount < 0, `credits` set) and zero-value orders included.
        -- A credit note has no due date of its own: no default `on` + 30.
        CREATE OR REPLACE VIEW cx.purchases AS
            SELECT a.id, a.customer_id, a."on", a.amount, a.margin,
                   CASE WHEN a.amount < 0 THEN a.due_on ELSE coalesce(a.due_on, a."on" + 30) END AS due_on,
                   a.paid_on, a.credits
            FROM cx.activities a
            WHERE NOT a.deleted AND a.type = 'purchase'
              AND a.customer_id IS NOT NULL AND a."on" IS NOT NULL AND a.amount IS NOT NULL;

        -- The rules of credit notes (RecordState.validateCreditNote), on displayed values: a negative
        -- amount only on a purchase with `credits`, `credits` only on a purchase with a negative amount,
        -- never the record's own id. Raises 22023 naming the field.
        CREATE FUNCTION cx.check_credit_note(state jsonb) RETURNS void
        LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            shown jsonb;
            amount numeric;
            hint constant text := 'a credit note is a purchase with a negative amount and credits set to the purchase it corrects, '
                || 'e.g. cx.add_activity(''{"customer_id": "…", "type": "purchase", "amount": "-20.00", "credits": "<purchase id>"}'')';
        BEGIN
            IF state ->> 'kind' IS DISTINCT FROM 'activity' THEN
                RETURN;
            END IF;
            shown := cx.state_displayed(state);
            IF shown ->> 'type' IS DISTINCT FROM 'purchase' THEN
                IF shown ? 'credits' THEN
                    RAISE EXCEPTION 'credits: only a purchase can credit a purchase (a credit note); unset credits or make the activity a purchase'
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                RETURN;
            END IF;
            IF NOT shown ? 'amount' THEN
                RETURN;
            END IF;
            amount := (shown ->> 'amount')::numeric;
            IF shown ? 'credits' THEN
                IF shown ->> 'credits' = state ->> 'id' THEN
                    RAISE EXCEPTION 'credits: a credit note cannot credit itself; give the purchase it corrects'
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                IF amount >= 0 THEN
                    RAISE EXCEPTION 'amount: ''%'' is not a credit note''s amount: a purchase that credits another has a negative amount, e.g. -20.00',
                        shown ->> 'amount' USING ERRCODE = 'invalid_parameter_value', HINT = hint;
                END IF;
            ELSIF amount < 0 THEN
                RAISE EXCEPTION 'amount: ''%'' is negative: only a credit note has a negative amount; set credits to the purchase it corrects',
                    shown ->> 'amount' USING ERRCODE = 'invalid_parameter_value', HINT = hint;
            END IF;
        END
        $$;

        -- The value rules with `credits` (a record id) and amounts of any sign (Schema.swift).
        CREATE OR REPLACE FUNCTION cx.normalize_field(kind text, field text, value text) RETURNS text
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
                    WHEN 'notes' THEN 'text' WHEN 'reference' THEN 'text' END
                WHEN 'activity' THEN CASE field
                    WHEN 'customer_id' THEN 'record_id' WHEN 'referred_customer_id' THEN 'record_id'
                    WHEN 'type' THEN 'type' WHEN 'channel' THEN 'channel'
                    WHEN 'on' THEN 'date' WHEN 'due_on' THEN 'date' WHEN 'paid_on' THEN 'date'
                    WHEN 'amount' THEN 'amount' WHEN 'margin' THEN 'fraction' WHEN 'nps' THEN 'score'
                    WHEN 'reference' THEN 'text' WHEN 'referred_name' THEN 'text' WHEN 'note' THEN 'text'
                    WHEN 'credits' THEN 'record_id' END
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
                    WHEN 'customer' THEN 'name, company, email, phone, address, city, country, territory, owner, segment, notes, reference'
                    ELSE 'customer_id, type, on, amount, margin, due_on, paid_on, reference, referred_customer_id, referred_name, note, channel, nps, credits' END;
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
                -- Any sign: which purchases may be negative is a rule of the record (cx.check_credit_note).
                IF value ~ '^-?[0-9]{1,13}(\.[0-9]{1,2})?$' THEN
                    RETURN value::numeric(16, 2)::text;
                END IF;
                RAISE EXCEPTION '%: ''%'' is not an amount (expected a decimal with at most 2 places, e.g. 120.00, or -20.00 on a credit note)', field, value
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
        -- Migration 13 wrapped migration 12's function (renamed normalize_field_0012) to add the
        -- customer field reference; the function above has every field itself, reference included.
        DROP FUNCTION cx.normalize_field_0012(text, text, text);

        -- Checks that a new record has what its kind requires and the rules of credit notes
        -- (RecordState.validateComplete), and that an activity's customer is stored.
        CREATE OR REPLACE FUNCTION cx.sql_write_check_complete(state jsonb) RETURNS void
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
            PERFORM cx.check_credit_note(state);
            IF NOT EXISTS (SELECT 1 FROM cx.customers AS c WHERE c.id = (shown ->> 'customer_id')::uuid AND NOT c.deleted) THEN
                RAISE EXCEPTION 'customer_id: no customer %', shown ->> 'customer_id' USING ERRCODE = 'foreign_key_violation';
            END IF;
        END
        $$;

        -- The write of migration 0012 with the typed column `credits` (and in the audit's field order), and
        -- the rules of credit notes checked on every edit of an activity.
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

        -- Customer insight with credit notes and zero-value orders (docs/sql-guide.md §3–4), as the
        -- Model's CustomerClassifier, CustomerBaseMetrics and CohortTable: a purchase in the counts
        -- (lead, passer_by, first purchase, active, base, cohorts) is an order, amount >= 0; revenue
        -- is net (credit notes subtract on their own date); margins are weighted over net amounts
        -- (none when the net revenue carrying a margin is <= 0); only amount > 0 can be late or overdue.
        CREATE OR REPLACE FUNCTION cx.customer_status_at(
            as_of date, window_days integer DEFAULT NULL, target_margin numeric DEFAULT NULL, grace_days integer DEFAULT NULL)
        RETURNS TABLE (
            customer_id uuid, name text, territory text, owner text, status text,
            purchases_in_window bigint, revenue_in_window numeric, weighted_margin numeric,
            late_purchases bigint, overdue_amount numeric, referrals_in_window bigint)
        LANGUAGE sql STABLE AS $$
            WITH s AS (SELECT * FROM cx.classification_settings(window_days, target_margin, grace_days)),
            p AS (
                SELECT c.id AS customer_id,
                       count(pu.id) FILTER (WHERE pu.amount >= 0 AND pu."on" <= as_of) AS ever,
                       count(pu.id) FILTER (WHERE pu.amount >= 0 AND pu."on" > as_of - s.w AND pu."on" <= as_of) AS in_window,
                       coalesce(sum(pu.amount) FILTER (WHERE pu."on" > as_of - s.w AND pu."on" <= as_of), 0) AS revenue,
                       sum(pu.amount) FILTER (WHERE pu."on" > as_of - s.w AND pu."on" <= as_of AND pu.margin IS NOT NULL) AS margin_revenue,
                       sum(pu.amount * pu.margin) FILTER (WHERE pu."on" > as_of - s.w AND pu."on" <= as_of AND pu.margin IS NOT NULL) AS margin_weighted,
                       count(pu.id) FILTER (WHERE pu.amount > 0 AND pu."on" > as_of - s.w AND pu."on" <= as_of AND (
                           (pu.paid_on IS NOT NULL AND pu.paid_on <= as_of AND pu.due_on + s.grace < pu.paid_on)
                           OR ((pu.paid_on IS NULL OR pu.paid_on > as_of) AND pu.due_on + s.grace < as_of))) AS late,
                       coalesce(sum(pu.amount) FILTER (WHERE pu.amount > 0 AND pu."on" > as_of - s.w AND pu."on" <= as_of
                           AND (pu.paid_on IS NULL OR pu.paid_on > as_of) AND pu.due_on + s.grace < as_of), 0) AS overdue
                FROM cx.customers c CROSS JOIN s
                LEFT JOIN cx.purchases pu ON pu.customer_id = c.id
                WHERE NOT c.deleted
                GROUP BY c.id
            ),
            r AS (
                SELECT a.customer_id, count(*) AS referrals
                FROM cx.activities a CROSS JOIN s
                WHERE NOT a.deleted AND a.type = 'referral' AND a."on" > as_of - s.w AND a."on" <= as_of
                GROUP BY a.customer_id
            )
            SELECT c.id, c.name, c.territory, c.owner,
                   CASE WHEN p.ever = 0 THEN 'lead'
                        WHEN p.late > 0 THEN 'bad_debt'
                        WHEN p.in_window < 2 THEN 'passer_by'
                        WHEN p.margin_revenue > 0 AND p.margin_weighted < s.target * p.margin_revenue THEN 'prospect'
                        WHEN coalesce(r.referrals, 0) > 0 THEN 'advocate'
                        ELSE 'customer' END,
                   p.in_window, p.revenue,
                   CASE WHEN p.margin_revenue > 0 THEN round(p.margin_weighted / p.margin_revenue, 4) END,
                   p.late, p.overdue, coalesce(r.referrals, 0)
            FROM cx.customers c
            JOIN p ON p.customer_id = c.id
            CROSS JOIN s
            LEFT JOIN r ON r.customer_id = c.id
        $$;

        CREATE OR REPLACE FUNCTION cx.customer_metrics(from_date date, to_date date)
        RETURNS TABLE (
            period_start date, period_end date,
            gross_new bigint, active bigint, existing bigint, base_start bigint, base_end bigint,
            retained bigint, lost bigint, net_new bigint,
            revenue_new numeric, revenue_existing numeric, revenue_per_new numeric, revenue_per_existing numeric,
            lead bigint, bad_debt bigint, passer_by bigint, prospect bigint, advocate bigint, customer bigint)
        LANGUAGE sql STABLE AS $$
            WITH s AS (SELECT * FROM cx.classification_settings()),
            per_customer AS (
                SELECT pu.customer_id,
                       min(pu."on") FILTER (WHERE pu.amount >= 0) AS first_on,
                       coalesce(sum(pu.amount) FILTER (WHERE pu."on" >= from_date AND pu."on" < to_date), 0) AS revenue,
                       coalesce(bool_or(pu."on" >= from_date AND pu."on" < to_date) FILTER (WHERE pu.amount >= 0), false) AS is_active,
                       coalesce(bool_or(pu."on" > (from_date - 1) - s.w AND pu."on" <= from_date - 1) FILTER (WHERE pu.amount >= 0), false) AS in_base_start,
                       coalesce(bool_or(pu."on" > (to_date - 1) - s.w AND pu."on" <= to_date - 1) FILTER (WHERE pu.amount >= 0), false) AS in_base_end
                FROM cx.purchases pu
                JOIN cx.customers c ON c.id = pu.customer_id AND NOT c.deleted
                CROSS JOIN s
                GROUP BY pu.customer_id
            ),
            totals AS (
                SELECT count(*) FILTER (WHERE first_on >= from_date AND first_on < to_date) AS gross_new,
                       count(*) FILTER (WHERE is_active) AS active,
                       count(*) FILTER (WHERE is_active AND first_on < from_date) AS existing,
                       count(*) FILTER (WHERE in_base_start) AS base_start,
                       count(*) FILTER (WHERE in_base_end) AS base_end,
                       count(*) FILTER (WHERE in_base_start AND in_base_end) AS retained,
                       coalesce(sum(revenue) FILTER (WHERE first_on >= from_date AND first_on < to_date), 0) AS revenue_new,
                       coalesce(sum(revenue) FILTER (WHERE first_on < from_date), 0) AS revenue_existing
                FROM per_customer
            ),
            statuses AS (
                SELECT count(*) FILTER (WHERE status = 'lead') AS lead,
                       count(*) FILTER (WHERE status = 'bad_debt') AS bad_debt,
                       count(*) FILTER (WHERE status = 'passer_by') AS passer_by,
                       count(*) FILTER (WHERE status = 'prospect') AS prospect,
                       count(*) FILTER (WHERE status = 'advocate') AS advocate,
                       count(*) FILTER (WHERE status = 'customer') AS customer
                FROM cx.customer_status_at(to_date - 1)
            )
            SELECT from_date, to_date,
                   t.gross_new, t.active, t.existing, t.base_start, t.base_end, t.retained,
                   t.base_start - t.retained, t.base_end - t.base_start,
                   round(t.revenue_new, 2), round(t.revenue_existing, 2),
                   CASE WHEN t.gross_new = 0 THEN 0.00 ELSE round(t.revenue_new / t.gross_new, 2) END,
                   CASE WHEN t.existing = 0 THEN 0.00 ELSE round(t.revenue_existing / t.existing, 2) END,
                   st.lead, st.bad_debt, st.passer_by, st.prospect, st.advocate, st.customer
            FROM totals t CROSS JOIN statuses st
        $$;

        CREATE OR REPLACE FUNCTION cx.customer_metrics_by(dimension text, from_date date, to_date date)
        RETURNS TABLE (
            group_value text, period_start date, period_end date,
            gross_new bigint, active bigint, existing bigint, base_start bigint, base_end bigint,
            retained bigint, lost bigint, net_new bigint,
            revenue_new numeric, revenue_existing numeric, revenue_per_new numeric, revenue_per_existing numeric,
            lead bigint, bad_debt bigint, passer_by bigint, prospect bigint, advocate bigint, customer bigint)
        LANGUAGE plpgsql STABLE AS $fn$
        #variable_conflict use_column
        BEGIN
            IF dimension IS NULL OR dimension NOT IN ('territory', 'segment', 'owner') THEN
                RAISE EXCEPTION 'unknown dimension %', coalesce(quote_literal(dimension), 'NULL')
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'use territory, segment or owner';
            END IF;
            RETURN QUERY
            WITH s AS (SELECT * FROM cx.classification_settings()),
            members AS (
                SELECT c.id,
                       coalesce(CASE dimension WHEN 'territory' THEN c.territory WHEN 'segment' THEN c.segment ELSE c.owner END, '') AS g
                FROM cx.customers c WHERE NOT c.deleted
            ),
            per_customer AS (
                SELECT m.g, pu.customer_id,
                       min(pu."on") FILTER (WHERE pu.amount >= 0) AS first_on,
                       coalesce(sum(pu.amount) FILTER (WHERE pu."on" >= from_date AND pu."on" < to_date), 0) AS revenue,
                       coalesce(bool_or(pu."on" >= from_date AND pu."on" < to_date) FILTER (WHERE pu.amount >= 0), false) AS is_active,
                       coalesce(bool_or(pu."on" > (from_date - 1) - s.w AND pu."on" <= from_date - 1) FILTER (WHERE pu.amount >= 0), false) AS in_base_start,
                       coalesce(bool_or(pu."on" > (to_date - 1) - s.w AND pu."on" <= to_date - 1) FILTER (WHERE pu.amount >= 0), false) AS in_base_end
                FROM cx.purchases pu
                JOIN members m ON m.id = pu.customer_id
                CROSS JOIN s
                GROUP BY m.g, pu.customer_id
            ),
            totals AS (
                SELECT pc.g, grouping(pc.g) = 1 AS is_total,
                       count(*) FILTER (WHERE first_on >= from_date AND first_on < to_date) AS gross_new,
                       count(*) FILTER (WHERE is_active) AS active,
                       count(*) FILTER (WHERE is_active AND first_on < from_date) AS existing,
                       count(*) FILTER (WHERE in_base_start) AS base_start,
                       count(*) FILTER (WHERE in_base_end) AS base_end,
                       count(*) FILTER (WHERE in_base_start AND in_base_end) AS retained,
                       coalesce(sum(revenue) FILTER (WHERE first_on >= from_date AND first_on < to_date), 0) AS revenue_new,
                       coalesce(sum(revenue) FILTER (WHERE first_on < from_date), 0) AS revenue_existing
                FROM per_customer pc
                GROUP BY GROUPING SETS ((pc.g), ())
            ),
            statuses AS (
                SELECT m.g, grouping(m.g) = 1 AS is_total,
                       count(*) FILTER (WHERE st.status = 'lead') AS lead,
                       count(*) FILTER (WHERE st.status = 'bad_debt') AS bad_debt,
                       count(*) FILTER (WHERE st.status = 'passer_by') AS passer_by,
                       count(*) FILTER (WHERE st.status = 'prospect') AS prospect,
                       count(*) FILTER (WHERE st.status = 'advocate') AS advocate,
                       count(*) FILTER (WHERE st.status = 'customer') AS customer
                FROM cx.customer_status_at(to_date - 1) st
                JOIN members m ON m.id = st.customer_id
                GROUP BY GROUPING SETS ((m.g), ())
            ),
            groups AS (
                SELECT DISTINCT m.g, false AS is_total FROM members m
                UNION ALL SELECT NULL, true
            ),
            joined AS (
                SELECT gr.g, gr.is_total,
                       coalesce(t.gross_new, 0) AS gross_new, coalesce(t.active, 0) AS active,
                       coalesce(t.existing, 0) AS existing, coalesce(t.base_start, 0) AS base_start,
                       coalesce(t.base_end, 0) AS base_end, coalesce(t.retained, 0) AS retained,
                       coalesce(t.revenue_new, 0) AS revenue_new, coalesce(t.revenue_existing, 0) AS revenue_existing,
                       coalesce(st.lead, 0) AS lead, coalesce(st.bad_debt, 0) AS bad_debt,
                       coalesce(st.passer_by, 0) AS passer_by, coalesce(st.prospect, 0) AS prospect,
                       coalesce(st.advocate, 0) AS advocate, coalesce(st.customer, 0) AS customer
                FROM groups gr
                LEFT JOIN totals t ON t.is_total = gr.is_total AND (gr.is_total OR t.g = gr.g)
                LEFT JOIN statuses st ON st.is_total = gr.is_total AND (gr.is_total OR st.g = gr.g)
            )
            SELECT j.g, from_date, to_date,
                   j.gross_new, j.active, j.existing, j.base_start, j.base_end, j.retained,
                   j.base_start - j.retained, j.base_end - j.base_start,
                   round(j.revenue_new, 2), round(j.revenue_existing, 2),
                   CASE WHEN j.gross_new = 0 THEN 0.00 ELSE round(j.revenue_new / j.gross_new, 2) END,
                   CASE WHEN j.existing = 0 THEN 0.00 ELSE round(j.revenue_existing / j.existing, 2) END,
                   j.lead, j.bad_debt, j.passer_by, j.prospect, j.advocate, j.customer
            FROM joined j
            ORDER BY j.is_total, j.g;
        END
        $fn$;

        CREATE OR REPLACE FUNCTION cx.cohorts(step text, from_date date, to_date date)
        RETURNS TABLE (
            cohort_start date, period_start date, period_end date,
            customers bigint, active bigint, retention numeric, revenue numeric)
        LANGUAGE plpgsql STABLE AS $fn$
        #variable_conflict use_column
        DECLARE
            months integer := CASE step WHEN 'month' THEN 1 WHEN 'quarter' THEN 3 WHEN 'year' THEN 12 END;
            first_start date;
        BEGIN
            IF months IS NULL THEN
                RAISE EXCEPTION 'unknown step %', coalesce(quote_literal(step), 'NULL')
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'use month, quarter or year';
            END IF;
            first_start := make_date(extract(year FROM from_date)::integer,
                                     ((extract(month FROM from_date)::integer - 1) / months) * months + 1, 1);
            RETURN QUERY
            WITH s AS (SELECT * FROM cx.classification_settings()),
            periods AS (
                SELECT p::date AS p_start, (p + make_interval(months => months))::date AS p_end
                FROM generate_series(first_start, to_date - 1, make_interval(months => months)) AS p
            ),
            members AS (
                SELECT f.customer_id, p.p_start AS cohort
                FROM (SELECT pu.customer_id, min(pu."on") FILTER (WHERE pu.amount >= 0) AS first_on
                      FROM cx.purchases pu JOIN cx.customers c ON c.id = pu.customer_id AND NOT c.deleted
                      GROUP BY pu.customer_id) f
                JOIN periods p ON f.first_on >= p.p_start AND f.first_on < p.p_end
            ),
            sizes AS (SELECT cohort, count(*) AS customers FROM members GROUP BY cohort),
            cells AS (
                SELECT sz.cohort, p.p_start, p.p_end, sz.customers,
                       (SELECT count(*) FROM members m
                        WHERE m.cohort = sz.cohort AND EXISTS (
                            SELECT 1 FROM cx.purchases pu
                            WHERE pu.customer_id = m.customer_id AND pu.amount >= 0
                              AND pu."on" > (p.p_end - 1) - s.w AND pu."on" <= p.p_end - 1)) AS active,
                       (SELECT coalesce(sum(pu.amount), 0) FROM members m JOIN cx.purchases pu ON pu.customer_id = m.customer_id
                        WHERE m.cohort = sz.cohort AND pu."on" >= p.p_start AND pu."on" < p.p_end) AS revenue
                FROM sizes sz JOIN periods p ON p.p_start >= sz.cohort CROSS JOIN s
            )
            SELECT c.cohort, c.p_start, c.p_end, c.customers, c.active,
                   round(100.0 * c.active / c.customers, 1), round(c.revenue, 2)
            FROM cells c
            ORDER BY c.cohort, c.p_start;
        END
        $fn$;
        """#)
}
