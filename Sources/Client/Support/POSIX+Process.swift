import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension POSIX {
    /// Whether file descriptor `fd` is a terminal.
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// `write(2)` for callers inside types whose own `write` shadows the C function.
    static func writeSome(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        write(fd, bytes, count)
    }

    /// The process environment block (`environ`; Darwin reaches it through `_NSGetEnviron`).
    static var environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        #if canImport(Darwin) || CX_TYPECHECK_DARWIN
        return _NSGetEnviron().pointee!
        #elseif canImport(Glibc) || canImport(Musl)
        return environ
        #endif
    }

    /// Writes `text` to stderr unbuffered (best effort: a closed stderr is ignored).
    static func writeStderr(_ text: String) {
        _ = try? FileDescriptor.standardError.writeAll(text.utf8)
    }

    /// The machine's host name, up to the first dot.
    static func shortHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "cx" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(name.split(separator: ".").first ?? "cx")
    }
}
