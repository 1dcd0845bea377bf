import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 proxy between `cx` and `cx-server` that misbehaves on purpose, and records
/// the status code of every answer the server gave.
///
/// For each request it reads (headers plus a `Content-Length` body) it opens a fresh upstream
/// connection and forwards the bytes unchanged. With the fault enabled it sometimes forwards the
/// request twice (the client sees the second answer: a duplicated request), and sometimes drops
/// the answer and closes the client's connection (the server did the work, the client does not
/// know). Every upstream status is recorded, so the suite can check "no 5xx except 503 while the
/// database is down" even for answers the client never saw.
final class FaultProxy: Sendable {
    /// What the proxy does to each request.
    struct Behaviour: Sendable {
        var duplicateProbability = 0.0
        var dropProbability = 0.0
    }

    /// One answer the server gave that breaks the status rule.
    struct BadStatus: Sendable, CustomStringConvertible {
        var status: Int
        var requestLine: String
        var databaseDown: Bool
        var description: String { "\(status) for \(requestLine)\(databaseDown ? " (database down)" : "")" }
    }

    private struct State {
        var random: SeededGenerator
        var behaviour = Behaviour()
        var databaseDown = false
        var requests = 0
        var duplicated = 0
        var dropped = 0
        var statusCounts: [Int: Int] = [:]
        var badStatuses: [BadStatus] = []
        var slowAnswers: [String] = []
        var stopped = false
    }

    let port: UInt16
    private let upstreamPort: UInt16
    private let listener: Int32
    private let state: Mutex<State>

    /// Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:`upstreamPort`.
    init?(upstreamPort: UInt16, random: SeededGenerator) {
        guard let (fd, port) = FaultProxy.listen() else { return nil }
        listener = fd
        self.port = port
        self.upstreamPort = upstreamPort
        state = Mutex(State(random: random))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Changes the fault probabilities (all zero: a clean pass-through recorder).
    func set(_ behaviour: Behaviour) {
        state.withLock { $0.behaviour = behaviour }
    }

    /// Tells the proxy whether the database is down, which makes 503 answers expected.
    func setDatabaseDown(_ down: Bool) {
        state.withLock { $0.databaseDown = down }
    }

    /// Counters for the report: requests, duplicated, dropped, answers by status, bad statuses.
    func snapshot() -> (requests: Int, duplicated: Int, dropped: Int, statuses: [Int: Int], bad: [BadStatus], slow: [String]) {
        state.withLock { ($0.requests, $0.duplicated, $0.dropped, $0.statusCounts, $0.badStatuses, $0.slowAnswers) }
    }

    /// Answers slower than this are reported (a sync should fail fast when the database is down).
    static let slowSeconds = 5.0

    /// Stops accepting connections.
    func stop() {
        state.withLock { $0.stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    // MARK: - Connections

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if state.withLock({ $0.stopped }) { return }
                if errno == EINTR { continue }
                return
            }
            FaultProxy.setTimeouts(client)
            let thread = Thread { [self] in
                serve(client)
                close(client)
            }
            thread.start()
        }
    }

    /// Serves one client connection: request after request until the client closes it.
    private func serve(_ client: Int32) {
        let reader = SocketReader(fd: client)
        while let request = reader.readHTTPMessage(isRequest: true) {
            let requestLine = request.head.split(separator: "\r\n").first.map(String.init) ?? "?"
            let (duplicate, drop) = state.withLock { state -> (Bool, Bool) in
                state.requests += 1
                let duplicate = state.random.chance(state.behaviour.duplicateProbability)
                let drop = state.random.chance(state.behaviour.dropProbability)
                if duplicate { state.duplicated += 1 }
                if drop { state.dropped += 1 }
                return (duplicate, drop)
            }
            var answer: HTTPMessage?
            for _ in 0..<(duplicate ? 2 : 1) {
                answer = forward(request.bytes, requestLine: requestLine)
            }
            guard let answer, !drop else { return }
            guard FaultProxy.writeAll(client, answer.bytes) else { return }
            if answer.head.lowercased().contains("connection: close") { return }
        }
    }

    /// Sends one request upstream on a fresh connection and reads the whole answer.
    private func forward(_ bytes: [UInt8], requestLine: String) -> HTTPMessage? {
        guard let upstream = FaultProxy.connect(port: upstreamPort) else { return nil }
        defer { close(upstream) }
        let sent = Date()
        guard FaultProxy.writeAll(upstream, bytes) else { return nil }
        guard let answer = SocketReader(fd: upstream).readHTTPMessage(isRequest: false) else { return nil }
        let status = answer.status
        let seconds = Date().timeIntervalSince(sent)
        state.withLock { state in
            if seconds > FaultProxy.slowSeconds {
                state.slowAnswers.append(
                    String(format: "%d after %.1f s for %@%@", status, seconds, requestLine,
                           state.databaseDown ? " (database down)" : ""))
            }
            state.statusCounts[status, default: 0] += 1
            if status >= 500 && !(status == 503 && state.databaseDown) {
                state.badStatuses.append(
                    BadStatus(status: status, requestLine: requestLine, databaseDown: state.databaseDown))
            }
        }
        return answer
    }

    // MARK: - Sockets

    private static func listen() -> (Int32, UInt16)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            close(fd)
            return nil
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// A TCP port that was free a moment ago (for the server).
    static func freePort() -> UInt16? {
        guard let (fd, port) = listen() else { return nil }
        close(fd)
        return port
    }

    private static func connect(port: UInt16) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        setTimeouts(fd, seconds: 120)  // long enough to measure a server that hangs
        return fd
    }

    /// Send and receive timeouts, so a stuck peer cannot hold a thread forever.
    private static func setTimeouts(_ fd: Int32, seconds: Int = 30) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 {
                if written < 0 && errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}

/// One HTTP message as raw bytes, with its head decoded for inspection.
struct HTTPMessage: Sendable {
    var head: String
    var bytes: [UInt8]

    /// The status code of a response (0 if unparsable).
    var status: Int {
        let parts = head.split(separator: " ", maxSplits: 2)
        return parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
    }
}

/// Buffered reads from a socket, enough HTTP/1.1 framing for the proxy: `Content-Length`,
/// chunked bodies and (responses) read-until-close.
final class SocketReader {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var position = 0

    init(fd: Int32) {
        self.fd = fd
    }

    /// Reads one complete message (head and body); nil on EOF, error or timeout.
    func readHTTPMessage(isRequest: Bool) -> HTTPMessage? {
        guard let headBytes = readUntil([13, 10, 13, 10]) else { return nil }
        let head = String(decoding: headBytes, as: UTF8.self)
        var bytes = headBytes
        let lowered = head.lowercased()
        if let length = FaultProxy.headerValue(lowered, "content-length").flatMap({ Int($0) }) {
            guard let body = read(count: length) else { return nil }
            bytes += body
        } else if FaultProxy.headerValue(lowered, "transfer-encoding")?.contains("chunked") == true {
            while true {
                guard let sizeLine = readUntil([13, 10]) else { return nil }
                bytes += sizeLine
                let text = String(decoding: sizeLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                let size = Int(text.split(separator: ";").first.map(String.init) ?? "", radix: 16) ?? 0
                if size == 0 {
                    guard let trailer = readUntil([13, 10]) else { return nil }
                    bytes += trailer
                    if trailer.count > 2 {  // trailer headers, then the empty line
                        guard let rest = readUntil([13, 10, 13, 10]) else { return nil }
                        bytes += rest
                    }
                    break
                }
                guard let chunk = read(count: size + 2) else { return nil }
                bytes += chunk
            }
        } else if !isRequest {
            bytes += readToEnd()
        }
        return HTTPMessage(head: head, bytes: bytes)
    }

    private func fill() -> Bool {
        if position > 0 && position == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            position = 0
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer += chunk[0..<n]
                return true
            }
            if n < 0 && errno == EINTR { continue }
            return false
        }
    }

    private func readUntil(_ delimiter: [UInt8]) -> [UInt8]? {
        var searchFrom = position
        while true {
            if buffer.count - position >= delimiter.count {
                var index = max(searchFrom, position)
                while index + delimiter.count <= buffer.count {
                    if buffer[index..<(index + delimiter.count)].elementsEqual(delimiter) {
                        let end = index + delimiter.count
                        let result = Array(buffer[position..<end])
                        position = end
                        return result
                    }
                    index += 1
                }
                searchFrom = max(position, buffer.count - delimiter.count + 1)
            }
            guard fill() else { return nil }
        }
    }

    private func read(count: Int) -> [UInt8]? {
        while buffer.count - position < count {
            guard fill() else { return nil }
        }
        let result = Array(buffer[position..<(position + count)])
        position += count
        return result
    }

    private func readToEnd() -> [UInt8] {
        while fill() {}
        let result = Array(buffer[position...])
        position = buffer.count
        return result
    }
}

extension FaultProxy {
    /// The value of a header in an already lower-cased head, or nil.
    static func headerValue(_ loweredHead: String, _ name: String) -> String? {
        for line in loweredHead.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 && parts[0].trimmingCharacters(in: .whitespaces) == name {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
