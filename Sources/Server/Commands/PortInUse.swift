#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `serve` cannot listen because another process already does on that address and port.
struct PortInUse: Error, CustomStringConvertible {
    let host: String
    let port: Int

    var description: String {
        """
        port \(port) is in use on \(host) (another program has it, perhaps another cx-server serve), so this server did \
        not start. Stop that program, or start this server on a free port, e.g. `cx-server serve --port \(port + 1)` \
        (and give cx the matching URL).
        """
    }

    /// Whether `error` (from binding the listening socket) means the address is taken.
    static func isAddressInUse(_ error: any Error) -> Bool {
        if error is PortInUse { return true }
        let text = String(describing: error)
        return text.contains("Address already in use") || text.contains("errno: \(EADDRINUSE))")
    }

    /// Throws when something already listens on `host:port`, before anything else starts (no
    /// database opened, no "listening" logged). It binds a throwaway socket with the same
    /// `SO_REUSEADDR` the server uses, so a port only in `TIME_WAIT` is not taken for busy. A
    /// host that does not resolve, or port 0, passes: the real bind reports those.
    static func check(host: String, port: Int) throws(PortInUse) {
        guard port > 0, port <= 65_535 else { return }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return }
        defer { freeaddrinfo(first) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            defer { entry = address.pointee.ai_next }
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let bound = bind(fd, address.pointee.ai_addr, address.pointee.ai_addrlen)
            let failure = errno
            close(fd)
            if bound != 0 && failure == EADDRINUSE { throw PortInUse(host: host, port: port) }
        }
    }
}
