import CXPostgres
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Answers every error as the JSON error body, so clients never see an HTML or empty error.
///
/// ``APIError``s pass through; Hummingbird's `HTTPError`s (unknown route, wrong method, body too
/// large) keep their status with a JSON body; anything else is logged and answered as a 500
/// that reveals nothing internal.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            throw Self.apiError(for: error, logger: context.logger)
        }
    }

    /// The answer for `error`: ``APIError``s as they are, anything else translated (and logged
    /// when it is the server's fault). Used here and by handlers that log their own outcome.
    static func apiError(for error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as HTTPError:
            return APIError(error.status, code: Self.code(for: error.status), message: error.body ?? error.status.reasonPhrase)
        case let error as HTTPParserError:
            // The client closed or was disconnected (read timeout) mid-request: its fault, not a
            // server failure, and the answer will most likely never arrive.
            logger.info("request ended early", metadata: ["error": "\(error)"])
            return APIError(
                .badRequest, code: "incomplete_request",
                message: "the request ended before it was complete (\(error)); send the whole request again")
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, code: "body_too_large", message: "request body exceeds the server's limit; push fewer records per request")
        case let error as PostgresError where Self.databaseUnavailable(error):
            // The database is down or restarting: a temporary condition clients retry, not a
            // server failure (as `/readyz` says too).
            logger.warning("database unavailable", metadata: ["error": "\(error)"])
            var unavailable = APIError(
                .serviceUnavailable, code: "database_unavailable",
                message: "the server's database is unavailable; retry in a few seconds (local changes are kept)")
            unavailable.headers[.retryAfter] = "2"
            return unavailable
        case let error as any HTTPResponseError:
            return APIError(error.status, code: Self.code(for: error.status), message: error.status.reasonPhrase)
        default:
            logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return APIError(.internalServerError, code: "internal_error", message: "the server failed to handle the request; see the server log")
        }
    }

    /// Whether `error` means the database cannot be reached right now: no connection, a
    /// connection lost, or the server shutting down or starting (SQLSTATE classes 08 and 57P).
    static func databaseUnavailable(_ error: PostgresError) -> Bool {
        if error.code == .connectionFailed || error.code == .connectionLost || error.code == .poolClosed { return true }
        guard let state = error.sqlState else { return false }
        return state.errorClass == "08" || state.rawValue.hasPrefix("57P")
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .contentTooLarge: "body_too_large"
        case .unauthorized: "unauthorized"
        case .badRequest: "bad_request"
        default: status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
        }
    }
}
