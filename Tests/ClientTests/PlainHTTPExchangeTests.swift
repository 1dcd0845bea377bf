#if canImport(FoundationNetworking) && canImport(Glibc)
@testable import CXClient
import Foundation
import FoundationNetworking
import Glibc
import Testing

/// The plain-HTTP transport `cx` uses for `http://` servers on Linux: answers delimited every
/// way a server (or a proxy in front of it) may delimit them, and failures thrown as the
/// `URLError`s the rest of the client already maps to its messages and retries.
@Suite struct PlainHTTPExchangeTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func anAnswerWithContentLengthStopsThere() throws {
        let answer = try PlainHTTPExchange.parse(bytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
        #expect(answer == .init(status: 200, headers: ["content-type": "application/json", "content-length": "2"], body: bytes("{}")))
        let longer = try PlainHTTPExchange.parse(bytes("HTTP/1.1 429 Too Many Requests\r\nRetry-After:  3 \r\nContent-Length: 2\r\n\r\n{}xx"))
        #expect(longer.status == 429 && longer.headers["retry-after"] == "3" && longer.body == bytes("{}"))
    }

    @Test func aChunkedAnswerIsJoined() throws {
        let answer = try PlainHTTPExchange.parse(
            bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\nA;ext=1\r\n:1234567,\"\r\n2\r\nb\"\r\n0\r\n\r\n"))
        #expect(answer.body == bytes("{\"a\":1234567,\"b\""))
    }

    @Test func anAnswerWithoutLengthRunsToTheEndOfTheConnection() throws {
        #expect(try PlainHTTPExchange.parse(bytes("HTTP/1.0 200 OK\r\n\r\nhello")).body == bytes("hello"))
    }

    /// A connection that ends early is a lost connection (retried), never a short body.
    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", "HTTP/1.1 200 OK\r\nContent-Le", "",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n",
    ])
    func aTruncatedAnswerIsALostConnection(_ text: String) {
        let error = #expect(throws: URLError.self) { try PlainHTTPExchange.parse(bytes(text)) }
        #expect(error?.code == .networkConnectionLost)
        #expect(SyncClient.describe(error!) == "the connection was lost")
    }

    /// An answer is complete by its length or its last chunk, without waiting for the server (or
    /// a proxy) to close the connection; without either, only the end of the connection ends it.
    @Test func anAnswerIsCompleteByItsLengthOrItsLastChunk() throws {
        func complete(_ text: String) throws -> PlainHTTPExchange.Answer? {
            let bytes = self.bytes(text)
            let end = try #require(bytes.firstRange(of: [13, 10, 13, 10] as [UInt8])).upperBound
            return try PlainHTTPExchange.complete(bytes, headerEnd: end)
        }
        #expect(try complete("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{") == nil)
        #expect(try complete("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")?.body == bytes("{}"))
        #expect(try complete("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n") == nil)
        #expect(try complete("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")?.body == bytes("{}"))
        #expect(try complete("HTTP/1.0 200 OK\r\n\r\nhello") == nil)
    }

    @Test func aRefusedConnectionIsReportedAsOne() throws {
        // A port nothing listens on: bind one, note it, close it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        close(fd)
        let error = #expect(throws: URLError.self) {
            try PlainHTTPExchange.perform(host: "127.0.0.1", port: port, method: "GET", target: "/v1/me", headers: [], body: nil)
        }
        #expect(error.map(SyncClient.describe) == "connection refused")
        let unknown = #expect(throws: URLError.self) {
            try PlainHTTPExchange.perform(host: "no-such-host.invalid", port: 80, method: "GET", target: "/", headers: [], body: nil)
        }
        #expect(unknown.map(SyncClient.describe) == "unknown host")
    }
}
#endif
