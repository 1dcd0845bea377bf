import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import CXServer

/// A known path asked with a method it does not serve answers 405 with `Allow`, before
/// authentication; unknown paths stay 404.
@Suite(.serverDatabase) struct MethodNotAllowedTests {
    @Test(arguments: [
        ("/v1/sync", HTTPRequest.Method.get, "POST"),
        ("/v1/sync", .put, "POST"),
        ("/v1/sync", HTTPRequest.Method("PURGE")!, "POST"),
        ("/v1/me", .post, "GET"),
        ("/v1/records/0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f/history", .delete, "GET"),
        ("/healthz", .post, "GET"),
        ("/metrics", .patch, "GET"),
    ])
    func wrongMethodsAre405WithAllow(path: String, method: HTTPRequest.Method, allow: String) async throws {
        try await withTestApp { client, _ in
            let response = try await client.execute(uri: path, method: method, headers: [:], body: nil)
            #expect(response.status == .methodNotAllowed, "\(method) \(path): \(response.text)")
            #expect(response.headers[.allow] == allow)
            #expect(response.text.contains("\"code\":\"method_not_allowed\""))
        }
    }

    @Test func unknownPathsStay404() async throws {
        try await withTestApp { client, _ in
            let response = try await client.execute(uri: "/v1/nothing", method: .get, headers: [:], body: nil)
            #expect(response.status == .notFound)
        }
    }
}
