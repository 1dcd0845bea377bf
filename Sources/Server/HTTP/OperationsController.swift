import CXPostgres
import Hummingbird

/// `GET /healthz` (the process is up), `GET /readyz` (the database answers) and
/// `GET /metrics` (Prometheus text).
struct OperationsController: Sendable {
    let pool: PostgresPool
    let metrics: ServerMetrics

    func register(on router: Router<CXRequestContext>) {
        router.get("healthz") { _, _ in
            Self.json("{\"status\":\"ok\"}")
        }
        router.get("readyz") { _, context in
            do {
                _ = try await pool.withConnection { connection in try connection.query("SELECT 1") }
                return Self.json("{\"status\":\"ready\"}")
            } catch {
                context.logger.warning("readiness check failed", metadata: ["error": "\(error)"])
                throw APIError(.serviceUnavailable, code: "database_unavailable", message: "the database does not answer")
            }
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render(pool: pool))))
        }
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
