import CXModel
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking  // URLSession on Linux (libcurl); part of Foundation on macOS
#endif

/// The HTTP side of sync: `GET /v1/me`, `POST /v1/sync` and `GET /v1/records/{id}/history`, with bounded retries on
/// transient failures and the exit codes of the CLI contract (69 unreachable, 77 refused).
///
/// It speaks HTTP through the platform's stack (`URLSession`: the system's on macOS, libcurl's
/// on Linux), so `cx` builds without a TLS library of its own and follows the system's
/// certificates and proxies — except plain `http://` on Linux, where ``PlainHTTPExchange``
/// avoids FoundationNetworking's busy wait.
public final class SyncClient: Sendable {
    /// How many attempts a request gets, and the waits between them (seconds).
    public static let retryDelays: [Double] = RetryPolicy.standard.backoff

    public let server: String
    private let token: String
    private let session: URLSession
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
        let configuration = URLSessionConfiguration.ephemeral
        // No answer for 120 s ends an attempt; a whole request (a large pull page) may take 300 s.
        // A refused connection fails at once, and the Retrier decides about retries.
        configuration.timeoutIntervalForRequest = Self.requestTimeout
        configuration.timeoutIntervalForResource = Self.resourceTimeout
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration)
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

    /// Releases the connections. Call once, when done.
    public func shutdown() async {
        session.finishTasksAndInvalidate()
    }

    /// `GET /v1/me`: the user name and role behind the token.
    public func me() async throws -> (user: String, role: String) {
        let body = try await send(method: "GET", path: "/v1/me", body: nil)
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
        let body = try await send(method: "POST", path: "/v1/sync", body: envelope)
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
            method: "GET", path: "/v1/records/\(id)/history", body: nil,
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
            _ = try await send(method: "GET", path: "/v1/records/\(id)/history", body: nil, notFound: NotInScope())
            return true
        } catch is NotInScope {
            return false
        }
    }

    private func send(method: String, path: String, body: [UInt8]?, notFound: (any Error)? = nil) async throws -> [UInt8] {
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

    private func sendOnce(method: String, path: String, body: [UInt8]?, notFound: (any Error)?) async throws -> [UInt8] {
        guard let url = URL(string: server + path), url.host != nil else {
            throw CXError(.usage, "'\(server)' is not a valid server URL", hint: "Use a URL such as http://cx.example.com:8080.")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("cx/\(CX.version)", forHTTPHeaderField: "User-Agent")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body)
        }
        let status: Int
        let bytes: [UInt8]
        let retryAfter: Int?
        do {
            (status, retryAfter, bytes) = try await exchange(request, body: body)
        } catch let error as URLError where [.badURL, .unsupportedURL].contains(error.code) {
            throw CXError(.usage, "'\(server)' is not a valid server URL (\(error.localizedDescription))",
                          hint: "Use a URL such as http://cx.example.com:8080.")
        } catch let failure as TransientFailure {
            throw failure
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

    /// Sends `request` and returns the answer's status, `Retry-After` seconds and body: over
    /// ``PlainHTTPExchange`` for an `http://` server on Linux (no proxy configured), through
    /// `URLSession` otherwise.
    private func exchange(_ request: URLRequest, body: [UInt8]?) async throws -> (status: Int, retryAfter: Int?, body: [UInt8]) {
        #if canImport(FoundationNetworking) && canImport(Glibc)
        if let url = request.url, url.scheme?.lowercased() == "http", let host = url.host, !Self.httpProxyConfigured,
            let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        {
            let target = (components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath)
                + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
            let headers = (request.allHTTPHeaderFields ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            let method = request.httpMethod ?? "GET"
            // Blocking socket calls: on a thread of their own, not the cooperative pool's.
            let answer = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PlainHTTPExchange.Answer, any Error>) in
                Thread.detachNewThread {
                    continuation.resume(with: Result {
                        try PlainHTTPExchange.perform(
                            host: host, port: url.port ?? 80, method: method, target: target, headers: headers, body: body,
                            readTimeout: Self.requestTimeout, totalTimeout: Self.resourceTimeout)
                    })
                }
            }
            return (answer.status, answer.headers["retry-after"].flatMap { Int($0.filter { $0 != " " }) }, answer.body)
        }
        #endif
        let (data, response) = try await session.data(for: request)
        guard let response = response as? HTTPURLResponse else {
            throw TransientFailure(.network, reason: "the answer was not HTTP")
        }
        return (response.statusCode, response.value(forHTTPHeaderField: "Retry-After").flatMap { Int($0.filter { $0 != " " }) }, [UInt8](data))
    }

    /// Seconds without an answer that end an attempt.
    static let requestTimeout: Double = 120
    /// Seconds a whole request (a large pull page) may take.
    static let resourceTimeout: Double = 300

    /// Whether the environment names an HTTP proxy (libcurl's variables), which `URLSession`
    /// honours on Linux: such requests stay with it.
    static var httpProxyConfigured: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"].contains { !(environment[$0] ?? "").isEmpty }
    }

    /// A request that got no answer, as a failure to retry: refused, timed out, or other.
    static func transientFailure(_ error: any Error) -> TransientFailure {
        let reason = describe(error)
        switch reason {
        case "connection refused": return TransientFailure(.refused, reason: reason)
        case "the request timed out": return TransientFailure(.timeout, reason: reason)
        default: return TransientFailure(.network, reason: reason)
        }
    }

    /// A request that got no answer, in words: matched on `URLError` codes (a refused or
    /// timed-out connection, an unknown host, a lost connection), never on messages; anything
    /// else is shown as it describes itself.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? URLError else { return String(describing: error) }
        switch error.code {
        // libcurl reports a refused connection (and any other failed connect) this way.
        case .cannotConnectToHost: return "connection refused"
        case .timedOut: return "the request timed out"
        case .cannotFindHost, .dnsLookupFailed: return "unknown host"
        case .networkConnectionLost: return "the connection was lost"
        case .notConnectedToInternet: return "no network connection"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            return "TLS failed (\(error.localizedDescription))"
        default: return error.localizedDescription
        }
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
