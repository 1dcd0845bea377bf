import CXModel
import CXPostgres

/// Reads a record's audit trail (`cx.changes`) as far as a user's scope may see it.
enum HistoryStore {
    /// The audit trail of record `id`, oldest first, or `nil` when there is no such record or
    /// it is outside `scope` (the two are answered alike, so a scope reveals nothing).
    static func history(of id: String, visibleTo scope: AccessScope, on connection: PostgresConnection) throws -> RecordHistory? {
        let located = try connection.query(
            """
            SELECT 'customer' AS kind, territory FROM cx.customers WHERE id = \(id)::uuid
            UNION ALL
            SELECT 'activity', c.territory FROM cx.activities a LEFT JOIN cx.customers c ON c.id = a.customer_id
            WHERE a.id = \(id)::uuid
            """)
        guard let record = located.first, scope.holds(try record.decode("territory", as: String?.self)) else { return nil }
        let rows = try connection.query(
            """
            SELECT seq, to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
                   user_name, replica_id, operation, has_conflicts, fields::text AS fields
            FROM cx.changes WHERE record_id = \(id)::uuid ORDER BY id
            """)
        var entries: [RecordHistory.Entry] = []
        for row in rows {
            var fields: [FieldChange] = []
            try JSONScanner.scan(Array(try row.decode("fields", as: String.self).utf8)) { scanner throws(JSONScanner.Failure) in
                try scanner.array { scanner throws(JSONScanner.Failure) in fields.append(try FieldChange(reading: &scanner)) }
            }
            entries.append(
                RecordHistory.Entry(
                    seq: try row.decode("seq", as: Int64.self), at: try row.decode("at", as: String.self),
                    user: try row.decode("user_name", as: String.self), replica: try row.decode("replica_id", as: String.self),
                    operation: try row.decode("operation", as: String.self), conflicts: try row.decode("has_conflicts", as: Bool.self),
                    fields: fields))
        }
        return RecordHistory(id: id, kind: try record.decode("kind", as: String.self), entries: entries)
    }
}
