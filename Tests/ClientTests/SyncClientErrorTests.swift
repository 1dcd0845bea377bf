import AsyncHTTPClient
import NIOCore
import Testing

@testable import CXClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Transport failures are told apart by their types, never by their messages.
@Suite struct SyncClientErrorTests {
    @Test func transportErrorsAreClassifiedByType() {
        #expect(SyncClient.describe(HTTPClientError.connectTimeout) == "connection timed out")
        #expect(SyncClient.describe(ChannelError.connectTimeout(.seconds(3))) == "connection timed out")
        #expect(SyncClient.describe(HTTPClientError.readTimeout) == "the request timed out")
        #expect(SyncClient.describe(HTTPClientError.deadlineExceeded) == "the request timed out")
        #expect(SyncClient.describe(NIOCore.IOError(errnoCode: ECONNREFUSED, reason: "connect")) == "connection refused")
        // Not a refusal, whatever the message says.
        struct Other: Error, CustomStringConvertible { var description: String { "refused ECONNREFUSED connectTimeout" } }
        #expect(SyncClient.describe(Other()) == "refused ECONNREFUSED connectTimeout")
        #expect(SyncClient.describe(NIOCore.IOError(errnoCode: ECONNRESET, reason: "read")) != "connection refused")
    }
}
