import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

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
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        let body = try Self.encoder.encode(Body(error: .init(code: code, message: message)))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The JSON body: `{"error":{"code":…,"message":…}}`.
    struct Body: Codable, Equatable {
        struct Detail: Codable, Equatable {
            var code: String
            var message: String
        }
        var error: Detail
    }

    /// Sorted keys: `code` before `message`, the order docs/openapi.yaml shows.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

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
