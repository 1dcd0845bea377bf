#if canImport(FoundationNetworking) && canImport(Glibc)
import Foundation
import FoundationNetworking
import Glibc

/// One HTTP/1.1 request and its answer over a plain TCP connection: how `cx` talks to an
/// `http://` server on Linux.
///
/// Why not `URLSession` there: FoundationNetworking drives libcurl from libdispatch sources and
/// spins while it waits for an answer — a request the server answers after 5 s costs the client
/// 3.3 s of CPU (docs/benchmarks.md) — so a push burned a core for as long as the server worked,
/// the very core the server needs when both run on one machine. This is the least HTTP a sync
/// needs, all of it blocking on one thread: one request per connection (`Connection: close`),
/// a body with `Content-Length`, and an answer delimited by `Content-Length`, chunked encoding
/// or the end of the connection. `https://` servers and configured HTTP proxies still go
/// through `URLSession` (libcurl speaks TLS and proxies; Apple platforms always use it).
///
/// Failures are thrown as the `URLError`s `URLSession` would throw for them, so that retries
/// and messages do not depend on the transport.
enum PlainHTTPExchange {
    /// An answer: status, header fields (names in lower case) and body.
    struct Answer: Equatable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    /// Sends `method target` with `headers` and `body` to `host:port` and reads the answer.
    /// - Parameters:
    ///   - connectTimeout: Seconds to establish the connection.
    ///   - readTimeout: Seconds without a byte moving before the exchange fails.
    ///   - totalTimeout: Seconds for the whole exchange.
    static func perform(
        host: String, port: Int, method: String, target: String, headers: [(String, String)], body: [UInt8]?,
        connectTimeout: Double = 10, readTimeout: Double = 120, totalTimeout: Double = 300
    ) throws -> Answer {
        let deadline = Date().addingTimeInterval(totalTimeout)
        let socket = try openConnection(host: host, port: port, timeout: connectTimeout)
        defer { close(socket) }
        var timeout = timeval(tv_sec: Int(readTimeout), tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host.contains(":") ? "[\(host)]" : host):\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        try sendAll(Array(head.utf8) + (body ?? []), on: socket)

        // Read until the answer is complete — by its length or its last chunk — or the server
        // closes: a proxy or server that keeps the connection open must not hold the answer.
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var headerEnd: Int?
        while true {
            if Date() > deadline { throw URLError(.timedOut) }
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                let searchFrom = max(0, received.count - 3)
                received.append(contentsOf: chunk[0..<count])
                if headerEnd == nil, let end = received[searchFrom...].firstRange(of: [13, 10, 13, 10] as [UInt8]) {
                    headerEnd = end.upperBound
                }
                if let headerEnd, let answer = try complete(received, headerEnd: headerEnd) { return answer }
            } else if count == 0 {
                break
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                throw URLError(.timedOut)
            } else {
                throw URLError(.networkConnectionLost)
            }
        }
        return try parse(received)
    }

    /// The answer in `bytes` if it is complete already (its `Content-Length` bytes arrived, or
    /// its last chunk), `nil` when more is to come or only the end of the connection ends it.
    static func complete(_ bytes: [UInt8], headerEnd: Int) throws -> Answer? {
        let fields = String(decoding: bytes[..<headerEnd], as: UTF8.self).lowercased().components(separatedBy: "\r\n")
        if fields.contains(where: { $0.hasPrefix("transfer-encoding:") && $0.contains("chunked") }) {
            // The last chunk (without trailers) ends the answer.
            let last: [UInt8] = Array("0\r\n\r\n".utf8)
            guard bytes.count - headerEnd >= last.count, bytes.suffix(last.count).elementsEqual(last) else { return nil }
            return try? parse(bytes)
        }
        guard let field = fields.first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(field.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return nil }
        return bytes.count - headerEnd >= length ? try parse(bytes) : nil
    }

    /// The answer in `bytes`, everything the server sent before closing the connection.
    static func parse(_ bytes: [UInt8]) throws -> Answer {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.firstRange(of: separator) else { throw URLError(.networkConnectionLost) }
        let lines = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw URLError(.badServerResponse)
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(bytes[end.upperBound...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            body = try dechunk(body)
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            // Fewer bytes than announced: the connection ended early.
            guard length >= 0, body.count >= length else { throw URLError(.networkConnectionLost) }
            body.removeSubrange(length...)
        }
        return Answer(status: status, headers: headers, body: body)
    }

    /// The body of a chunked answer: each chunk's size in hexadecimal (extensions ignored),
    /// its bytes, until the chunk of size 0.
    static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var body: [UInt8] = [], index = 0
        let crlf: [UInt8] = [13, 10]
        while true {
            guard let lineEnd = bytes[index...].firstRange(of: crlf) else { throw URLError(.networkConnectionLost) }
            let sizeText = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                throw URLError(.badServerResponse)
            }
            index = lineEnd.upperBound
            if size == 0 { return body }
            guard bytes.count - index >= size + 2 else { throw URLError(.networkConnectionLost) }
            body.append(contentsOf: bytes[index..<(index + size)])
            index += size + 2
        }
    }

    /// A connected TCP socket to `host:port` (each address in turn), or the error of the last
    /// attempt: a refused or otherwise failed connection, an unknown host, a timeout.
    private static func openConnection(host: String, port: Int, timeout: Double) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { throw URLError(.cannotFindHost) }
        defer { freeaddrinfo(list) }
        var failure = URLError(.cannotConnectToHost)
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let address = next {
            next = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var status = connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen)
            if status != 0, errno == EINPROGRESS {
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&poller, 1, Int32(timeout * 1000)) == 1 {
                    var code: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
                    status = code == 0 ? 0 : -1
                    errno = code
                } else {
                    status = -1
                    errno = ETIMEDOUT
                }
            }
            if status == 0 {
                _ = fcntl(fd, F_SETFL, flags)
                return fd
            }
            failure = URLError(errno == ETIMEDOUT ? .timedOut : .cannotConnectToHost)
            close(fd)
        }
        throw failure
    }

    /// Writes all of `bytes` (no SIGPIPE if the server has closed the connection).
    private static func sendAll(_ bytes: [UInt8], on socket: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written > 0 {
                offset += written
            } else if written < 0, errno == EINTR {
                continue
            } else if written < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                throw URLError(.timedOut)
            } else {
                throw URLError(.networkConnectionLost)
            }
        }
    }
}
#endif
