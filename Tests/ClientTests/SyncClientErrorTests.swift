import Foundation
import Testing

@testable import CXClient

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Transport failures are told apart by their types, never by their messages.
@Suite struct SyncClientErrorTests {
    @Test func transportErrorsAreClassifiedByType() {
        #expect(SyncClient.describe(URLError(.cannotConnectToHost)) == "connection refused")
        #expect(SyncClient.describe(URLError(.timedOut)) == "the request timed out")
        #expect(SyncClient.describe(URLError(.cannotFindHost)) == "unknown host")
        #expect(SyncClient.describe(URLError(.networkConnectionLost)) == "the connection was lost")
        // Not a refusal, whatever the message says.
        struct Other: Error, CustomStringConvertible { var description: String { "refused ECONNREFUSED connectTimeout" } }
        #expect(SyncClient.describe(Other()) == "refused ECONNREFUSED connectTimeout")
        #expect(SyncClient.describe(URLError(.networkConnectionLost)) != "connection refused")
    }

    /// A real refusal (nothing listens on the port) is told as one, through the platform's stack.
    @Test func aClosedPortIsARefusal() async throws {
        let client = try SyncClient(server: "http://127.0.0.1:9", token: "t", retryDelays: [])
        defer { Task { await client.shutdown() } }
        let error = await #expect(throws: CXError.self) { try await client.me() }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("connection refused") == true)
        #expect(error?.hint?.contains("is cx-server running?") == true)
    }
}
