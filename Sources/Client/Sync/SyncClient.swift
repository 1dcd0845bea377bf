import AsyncHTTPClient
import CXModel
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The HTTP side of sync: `GET /v1/me`, `POST /v1/sync` and `GET /v1/records/{id}/history`, with bounded retries on
/// transient failures and the exit codes of the CLI contract (69 unreachable, 77 refused).
public final class SyncClient: Sendable {
    /// How many attempts a request gets, and the waits between them (seconds).
    public static let retryDelays: [Double] = RetryPolicy.standard.backoff

    public let server: String
    private let token: String
    private let http: HTTPClient
    private let retrier: Retrier
    /// What to tell the user when the server stays unreachable (depends on the command).
    private let unreachableHint: String

    /// What a sync says when it gives up on an unreachable server.
    public static let syncUnreachableHint = "Local changes are kept; run `cx sync` again when the server is reachable."

    /// Creates a client for `server` (an `http://` or `https://` URL) with fixed waits
    /// between attempts (`[]`: a single attempt).
    public convenience init(server: String, token: String, retryDelays: [Double]) throws {
        try self.init(
            server: server, token: token,
            retrier: Retrier(policy: RetryPolicy(backoff: retryDelays, maxRetries: retryDelays.count, budget: .infinity)))
    }

    /// Creates a client for `server` (an `http://` or `https://` URL).
    ///
    /// - Parameters:
    ///   - retrier: How transient failures are retried (and reported while retrying).
    ///   - unreachableHint: The advice printed when the server stays unreachable; a read
    ///     command says something else than a sync, whose local changes are kept.
    public init(server: String, token: String, retrier: Retrier = Retrier(), unreachableHint: String = SyncClient.syncUnreachableHint) throws {
        self.server = try Self.normalize(server)
        self.token = token
        self.retrier = retrier
        self.unreachableHint = unreachableHint
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(3), read: .seconds(120)))
        configuration.httpVersion = .http1Only
        // A failed connection fails the request at once (ECONNREFUSED: nothing listens there);
        // the Retrier decides about retries, with progress, instead of the pool retrying
        // silently until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Checks a server URL and removes trailing slashes.
    public static func normalize(_ server: String) throws -> String {
        var server = server
        while server.hasSuffix("/") { server.removeLast() }
        guard server.hasPrefix("http://") || server.hasPrefix("https://"), server.count > 8,
            !server.contains(where: { $0 == " " || $0 == "\n" })
        else {
            throw CXError(.usage, "'\(server)' is not a server URL", hint: "Use a URL such as http://cx.example.com:8080.")
        }
        return server
    }

    /// Releases the connection pool. Call once, when done.
    public func shutdown() async {
        try? await http.shutdown()
    }

    /// `GET /v1/me`: the user name and role behind the token.
    public func me() async throws -> (user: String, role: String) {
        let body = try await send(method: .GET, path: "/v1/me", body: nil)
        var user = "", role = ""
        do {
            try JSONScanner.scan(body) { scanner throws(JSONScanner.Failure) in
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    switch key {
                    case "user": user = try scanner.string()
                    case "role": role = try scanner.string()
                    default: try scanner.skipValue()
                    }
                }
            }
        } catch {
            throw CXError(.failure, "the server at \(server) answered /v1/me with something that is not a cx reply (\(error))")
        }
        return (user, role)
    }

    /// `POST /v1/sync` with a prepared envelope (``SyncEnvelope/jsonBytes()``).
    ///
    /// - Throws: ``PayloadTooLarge`` when the server refuses the body as too large (413),
    ///   ``ReplicaForked`` on `409 replica_forked`, and the usual ``CXError``s.
    public func sync(_ envelope: [UInt8]) async throws -> SyncReply {
        let body = try await send(method: .POST, path: "/v1/sync", body: envelope)
        do {
            return try SyncReply(parsing: body)
        } catch {
            throw CXError(.failure, "the server's sync reply is not valid (\(error))",
                          hint: "Check that \(server) is a cx server of a compatible version.")
        }
    }

    /// `GET /v1/records/{id}/history`: who changed the record, when, and how.
    ///
    /// - Throws: ``CXError`` failure (exit 1) when the server has no history for `id` (404), and
    ///   the usual unreachable (69) and refused (77) errors.
    public func history(of id: String) async throws -> RecordHistory {
        let body = try await send(
            method: .GET, path: "/v1/records/\(id)/history", body: nil,
            notFound: CXError(.failure, "the server has no history for \(id) (it is not in your scope or was never synced)",
                              hint: "`cx sync` pushes records created here; a record outside your territories has no history for you."))
        do {
            return try RecordHistory(parsing: body)
        } catch {
            throw CXError(.failure, "the server's history reply is not valid (\(error))",
                          hint: "Check that \(server) is a cx server of a compatible version.")
        }
    }

    /// Whether the server holds record `id` in the user's scope (its history is readable to
    /// them); `false` when it is outside the scope or unknown to the server.
    public func holdsInScope(_ id: String) async throws -> Bool {
        struct NotInScope: Error {}
        do {
            _ = try await send(method: .GET, path: "/v1/records/\(id)/history", body: nil, notFound: NotInScope())
            return true
        } catch is NotInScope {
            return false
        }
    }

    private func send(method: HTTPMethod, path: String, body: [UInt8]?, notFound: (any Error)? = nil) async throws -> [UInt8] {
        do {
            return try await retrier.run {
                try await sendOnce(method: method, path: path, body: body, notFound: notFound)
            }
        } catch let gaveUp as Retrier.GaveUp {
            if gaveUp.waitTooLong, let wait = gaveUp.failure.retryAfter {
                throw CXError(.unavailable, "the server is limiting this token's requests: \(gaveUp.failure.reason)",
                              hint: Self.laterHint(unreachableHint, seconds: wait))
            }
            let attempts = gaveUp.attempts == 1 ? "" : " (\(gaveUp.attempts) attempts in \(RetryNotice.seconds(gaveUp.elapsed)))"
            var hint = unreachableHint
            if gaveUp.failure.kind == .refused {
                hint = "Nothing answers there: is cx-server running? " + hint
            }
            throw CXError(.unavailable, "cannot reach the server at \(server): \(gaveUp.failure.reason)\(attempts)",
                          hint: hint + " `--retry-for SECONDS` (or CX_RETRY_FOR) keeps trying longer.")
        }
    }

    /// The advice when the server asks to wait `seconds` before the next request.
    static func laterHint(_ hint: String, seconds: Int) -> String {
        if hint == syncUnreachableHint { return "Local changes are kept; run `cx sync` again in \(seconds) s." }
        return "Nothing was changed; try again in \(seconds) s."
    }

    /// The longest `Retry-After` a command waits out; a longer one ends the command (exit 69).
    static let longestRetryAfter = 30

    private func sendOnce(method: HTTPMethod, path: String, body: [UInt8]?, notFound: (any Error)?) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "cx/\(CX.version)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let status: UInt
        let bytes: [UInt8]
        let retryAfter: Int?
        do {
            let response = try await http.execute(request, timeout: .seconds(300))
            status = response.status.code
            retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0.filter { $0 != " " }) }
            let buffer = try await response.body.collect(upTo: 1 << 30)
            bytes = Array(buffer.readableBytesView)
        } catch let error as HTTPClientError where error == .invalidURL || error == .emptyHost || error == .emptyScheme {
            throw CXError(.usage, "'\(server)' is not a valid server URL (\(error))")
        } catch {
            throw Self.transientFailure(error)
        }
        switch status {
        case 200..<300:
            return bytes
        case 401:
            throw CXError(.permission, "the server refused the token: \(Self.errorMessage(bytes) ?? "unauthorized")",
                          hint: "Get a new token (`cx-server token issue NAME`) and run `cx init --token TOKEN`.")
        case 403:
            throw CXError(.permission, "the server refused the operation: \(Self.errorMessage(bytes) ?? "forbidden")")
        case 404 where notFound != nil:
            throw notFound!
        case 409 where Self.errorCode(bytes) == ReplicaForked.code:
            throw ReplicaForked(message: Self.errorMessage(bytes) ?? ReplicaForked.code)
        case 413:
            throw PayloadTooLarge(detail: Self.errorMessage(bytes) ?? "request body too large")
        case 429:
            throw TransientFailure(
                .rateLimited, reason: "HTTP 429" + (Self.errorMessage(bytes).map { ": \($0)" } ?? ""),
                retryAfter: retryAfter.map { max(0, $0) } ?? 1)
        case 408, 500..<600:
            throw TransientFailure(.serverError, reason: "HTTP \(status)" + (Self.errorMessage(bytes).map { ": \($0)" } ?? ""))
        default:
            throw CXError(.failure, "the server answered HTTP \(status): \(Self.errorMessage(bytes) ?? "no details")")
        }
    }

    /// A request that got no answer, as a failure to retry: refused, timed out, or other.
    static func transientFailure(_ error: any Error) -> TransientFailure {
        let reason = describe(error)
        switch reason {
        case "connection refused": return TransientFailure(.refused, reason: reason)
        case "connection timed out", "the request timed out": return TransientFailure(.timeout, reason: reason)
        default: return TransientFailure(.network, reason: reason)
        }
    }

    /// A request that got no answer, in words: matched on the error types of AsyncHTTPClient
    /// and SwiftNIO (a refused or timed-out connection, a request past its deadline), never on
    /// their messages; anything else is shown as it describes itself.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError:
            if error == .connectTimeout || error == .tlsHandshakeTimeout || error == .httpProxyHandshakeTimeout
                || error == .socksHandshakeTimeout
            {
                return "connection timed out"
            }
            if error == .readTimeout || error == .writeTimeout || error == .deadlineExceeded
                || error == .getConnectionFromPoolTimeout
            {
                return "the request timed out"
            }
        case let error as ChannelError:
            if case .connectTimeout = error { return "connection timed out" }
        case let error as NIOCore.IOError:
            if error.errnoCode == ECONNREFUSED { return "connection refused" }
        case let error as NIOConnectionError:
            // Every address tried failed: say why, preferring a refusal over a timeout.
            let reasons = error.connectionErrors.map { describe($0.error) }
            for reason in ["connection refused", "connection timed out"] where reasons.contains(reason) { return reason }
        default:
            break
        }
        return String(describing: error)
    }

    /// The `error.code` of a JSON error body.
    static func errorCode(_ body: [UInt8]) -> String? {
        var code: String?
        try? JSONScanner.scan(body) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                guard key == "error" else { return try scanner.skipValue() }
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    if key == "code" { code = try scanner.string() } else { try scanner.skipValue() }
                }
            }
        }
        return code
    }

    /// The `error.message` (and code) of a JSON error body.
    static func errorMessage(_ body: [UInt8]) -> String? {
        var code: String?, message: String?
        try? JSONScanner.scan(body) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                guard key == "error" else { return try scanner.skipValue() }
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    switch key {
                    case "code": code = try scanner.string()
                    case "message": message = try scanner.string()
                    default: try scanner.skipValue()
                    }
                }
            }
        }
        switch (code, message) {
        case let (code?, message?): return "\(message) (\(code))"
        case let (nil, message?): return message
        case let (code?, nil): return code
        default: return nil
        }
    }
}

/// The server's answer that this replica synced from another copy of the cache (a restored
/// backup, a copied home): `409 replica_forked`. The sync engine continues as a new
/// incarnation (``CacheStore/reincarnate(base:)``) and retries.
public struct ReplicaForked: Error, Sendable {
    public static let code = "replica_forked"
    public let message: String
}
