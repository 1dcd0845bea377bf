import CXModel
import CXPostgres
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import CXServer

/// A client that stops sending mid-request loses its connection after the read timeout instead
/// of holding it forever.
@Suite(.serverDatabase) struct ReadTimeoutTests {
    @Test func aStalledBodyIsDisconnectedAfterTheReadTimeout() async throws {
        try await withTestDatabase { database in
            var configuration = ServerConfiguration()
            configuration.port = 0
            configuration.readTimeout = .seconds(1)
            let app = buildApplication(configuration: configuration, pool: database.pool, metrics: ServerMetrics(), logger: TestDatabase.logger)
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let token = database.adminToken
                let elapsed = try await blocking { try Self.stall(port: port, token: token) }
                #expect(elapsed < 10, "the connection stayed open \(elapsed) s")
            }
        }
    }

    /// Declares a 1 GB body, sends 10 bytes, and returns how many seconds pass until the server
    /// closes the connection (gives up at 15 s).
    static func stall(port: Int, token: String) throws -> Double {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXFailure("socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXFailure("connect") }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = """
            POST /v1/sync HTTP/1.1\r
            Host: localhost\r
            Authorization: Bearer \(token)\r
            Content-Type: application/json\r
            Content-Length: 1000000000\r
            \r
            {"replica"
            """
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw POSIXFailure("send") }
        let start = Date()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }  // closed (0), reset, or our own 15 s receive timeout
        }
        return Date().timeIntervalSince(start)
    }

    struct POSIXFailure: Error, CustomStringConvertible {
        let call: String
        let code = errno
        init(_ call: String) { self.call = call }
        var description: String { "\(call) failed: errno \(code)" }
    }
}
