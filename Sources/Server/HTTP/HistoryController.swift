import CXModel
import CXPostgres
import Hummingbird

/// `GET /v1/records/{id}/history`: a record's audit trail, as far as the server knows it, for
/// users whose scope includes the record.
struct HistoryController: Sendable {
    let pool: PostgresPool

    func register(on group: RouterGroup<CXRequestContext>) {
        group.get("records/:id/history", use: history)
    }

    /// `{"id","kind","entries":[{"seq","at","user","replica","operation","conflicts","fields":[{"field","from","to"}]}]}`,
    /// oldest first. A record outside the user's scope is answered exactly like a missing one.
    @Sendable func history(_ request: Request, context: CXRequestContext) async throws -> Response {
        guard let user = context.user else { throw APIError.unauthorized }
        let text = context.parameters.get("id") ?? ""
        guard let id = RecordID.canonical(text) else {
            throw APIError.badRequest("invalid_id", "'\(text)' is not a record id (a UUID)")
        }
        let document: String? = try await pool.withConnection { connection in
            let scope = try UserStore.scope(of: user, on: connection)
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
            let history = RecordHistory(id: id, kind: try record.decode("kind", as: String.self), entries: entries)
            return String(decoding: history.jsonBytes(), as: UTF8.self)
        }
        guard let document else {
            throw APIError(.notFound, code: "not_found", message: "no record \(id) in your scope")
        }
        return OperationsController.json(document)
    }
}
