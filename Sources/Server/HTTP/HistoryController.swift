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
        let history = try await pool.withConnection { connection in
            try HistoryStore.history(of: id, visibleTo: user.scope, on: connection)
        }
        guard let history else {
            throw APIError(.notFound, code: "not_found", message: "no record \(id) in your scope")
        }
        return OperationsController.json(String(decoding: history.jsonBytes(), as: UTF8.self))
    }
}
