import CXModel
import HTTPTypes
import Hummingbird

/// An error answered as `{"error": {"code": "…", "message": "…"}}` with its HTTP status.
///
/// Codes are stable snake_case strings that scripts can match; messages are for people.
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    /// Stable machine-readable code, e.g. `invalid_record`.
    public let code: String
    /// What happened and what to do about it.
    public let message: String
    /// Extra response headers (e.g. `WWW-Authenticate`).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var w = JSONWriter(capacity: 128 + message.utf8.count)
        w.raw("{\"error\":{\"code\":")
        w.string(code)
        w.raw(",\"message\":")
        w.string(message)
        w.raw("}}")
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }

    static func badRequest(_ code: String, _ message: String) -> APIError {
        APIError(.badRequest, code: code, message: message)
    }

    static let unauthorized: APIError = {
        var error = APIError(
            .unauthorized, code: "unauthorized",
            message: "missing, malformed, unknown, expired or revoked bearer token; get a token with `cx-server token issue USER`, run against this server's database (the --data-dir or --database-url it was started with)")
        error.headers[.wwwAuthenticate] = "Bearer realm=\"cx\""
        return error
    }()
}
