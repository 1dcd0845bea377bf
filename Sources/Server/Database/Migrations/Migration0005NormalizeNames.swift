/// One spelling per name: every territory name, user name and typed text column is rewritten in
/// Unicode Normalization Form C, the form the Model's `Schema` and the admin commands now store.
///
/// Before this, "Zürich" typed with a combining diaeresis (NFD, as macOS file names and some
/// keyboards produce) and with a precomposed `ü` (NFC) were equal in Swift but different in
/// PostgreSQL, so a customer in one spelling was invisible to the reps of the other.
///
/// Variants of one name that collapse into one row are merged first: a user keeps one territory
/// row (active if any variant was), a customer one territory exit (the latest). The `jsonb`
/// states are left as they are: the server reads them through the Model, which normalises on
/// read, and rewrites the typed columns at the record's next change. PostgreSQL's `normalize`
/// needs a UTF-8 database; other encodings cannot hold such names differently and are skipped.
enum Migration0005NormalizeNames {
    static let migration = Migration(version: 5, name: "normalize names to NFC", sql: #"""
        DO $migration$
        BEGIN
            IF current_setting('server_encoding') <> 'UTF8' THEN
                RETURN;
            END IF;

            -- User territories: one row per (user, name in NFC), active if any variant was.
            UPDATE cx.user_territories k SET removed_at = NULL
            WHERE k.removed_at IS NOT NULL AND EXISTS (
                SELECT 1 FROM cx.user_territories d
                WHERE d.user_id = k.user_id AND d.territory <> k.territory AND d.removed_at IS NULL
                  AND normalize(d.territory, NFC) = normalize(k.territory, NFC));
            DELETE FROM cx.user_territories d USING cx.user_territories k
            WHERE d.user_id = k.user_id AND d.territory <> k.territory
              AND normalize(d.territory, NFC) = normalize(k.territory, NFC)
              AND (k.territory IS NFC NORMALIZED OR (d.territory IS NOT NFC NORMALIZED AND k.territory < d.territory));
            UPDATE cx.user_territories SET territory = normalize(territory, NFC)
            WHERE territory IS NOT NFC NORMALIZED;

            -- Territory exits: one row per (customer, name in NFC), the latest exit kept.
            DELETE FROM cx.territory_exits d USING cx.territory_exits k
            WHERE d.customer_id = k.customer_id AND d.territory <> k.territory
              AND normalize(d.territory, NFC) = normalize(k.territory, NFC)
              AND (d.seq < k.seq OR (d.seq = k.seq AND k.territory < d.territory));
            UPDATE cx.territory_exits SET territory = normalize(territory, NFC)
            WHERE territory IS NOT NFC NORMALIZED;

            -- User names: renamed unless the NFC spelling is already taken (left for the admin).
            UPDATE cx.users u SET name = normalize(u.name, NFC)
            WHERE u.name IS NOT NFC NORMALIZED
              AND NOT EXISTS (SELECT 1 FROM cx.users o WHERE o.name = normalize(u.name, NFC));

            -- Typed columns the central team queries.
            UPDATE cx.customers SET
                name = normalize(name, NFC), company = normalize(company, NFC), email = normalize(email, NFC),
                phone = normalize(phone, NFC), address = normalize(address, NFC), city = normalize(city, NFC),
                country = normalize(country, NFC), territory = normalize(territory, NFC), owner = normalize(owner, NFC),
                segment = normalize(segment, NFC), notes = normalize(notes, NFC),
                tags = ARRAY(SELECT normalize(t, NFC) FROM unnest(tags) AS t)
            WHERE name IS NOT NFC NORMALIZED OR company IS NOT NFC NORMALIZED OR email IS NOT NFC NORMALIZED
               OR phone IS NOT NFC NORMALIZED OR address IS NOT NFC NORMALIZED OR city IS NOT NFC NORMALIZED
               OR country IS NOT NFC NORMALIZED OR territory IS NOT NFC NORMALIZED OR owner IS NOT NFC NORMALIZED
               OR segment IS NOT NFC NORMALIZED OR notes IS NOT NFC NORMALIZED
               OR EXISTS (SELECT 1 FROM unnest(tags) AS t WHERE t IS NOT NFC NORMALIZED);
            UPDATE cx.activities SET
                reference = normalize(reference, NFC), referred_name = normalize(referred_name, NFC),
                note = normalize(note, NFC),
                tags = ARRAY(SELECT normalize(t, NFC) FROM unnest(tags) AS t)
            WHERE reference IS NOT NFC NORMALIZED OR referred_name IS NOT NFC NORMALIZED OR note IS NOT NFC NORMALIZED
               OR EXISTS (SELECT 1 FROM unnest(tags) AS t WHERE t IS NOT NFC NORMALIZED);
        END
        $migration$;
        """#)
}
