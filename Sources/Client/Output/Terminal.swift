#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where command output goes: data on stdout (buffered), messages on stderr; colour only on
/// a terminal and never when `NO_COLOR` is set.
public final class Terminal {
    private var buffer: [UInt8] = []
    /// Whether stdout gets colour.
    public let colorOut: Bool
    /// Whether stderr gets colour.
    public let colorErr: Bool

    public init(environment: [String: String]) {
        let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let dumb = environment["TERM"] == "dumb"
        colorOut = !noColor && !dumb && POSIX.isTerminal(1)
        colorErr = !noColor && !dumb && POSIX.isTerminal(2)
        buffer.reserveCapacity(1 << 16)
    }

    deinit { flush() }

    /// Appends bytes to stdout.
    public func write(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { flush() }
    }

    public func write(_ text: String) {
        write(text.utf8)
    }

    /// Writes a line to stdout.
    public func line(_ text: String = "") {
        write(text.utf8)
        buffer.append(UInt8(ascii: "\n"))
    }

    public func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = POSIX.writeSome(1, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return  // stdout closed (e.g. `| head`): nothing more to say.
                }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes a line to stderr (after flushing stdout, to keep the order on a shared terminal).
    public func note(_ text: String) {
        flush()
        POSIX.writeStderr(text + "\n")
    }

    /// Writes a warning to stderr.
    public func warn(_ text: String) {
        note(paint("warning:", .yellow, colorErr) + " " + text)
    }

    /// Writes an error to stderr.
    public func error(_ error: CXError) {
        var text = paint("error:", .red, colorErr) + " " + error.message
        if let hint = error.hint { text += "\n" + hint }
        note(text)
    }

    public enum Color: String {
        case red = "31", green = "32", yellow = "33", blue = "34", bold = "1", dim = "2"
    }

    /// `text` in `color` when `enabled`.
    public func paint(_ text: String, _ color: Color, _ enabled: Bool) -> String {
        enabled ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// `text` in `color` for stdout.
    public func out(_ text: String, _ color: Color) -> String {
        paint(text, color, colorOut)
    }
}

/// Aligned text tables for human output.
public struct TextTable {
    public var headers: [String]
    public var rows: [[String]] = []

    public init(headers: [String]) {
        self.headers = headers
    }

    public mutating func add(_ row: [String]) {
        rows.append(row)
    }

    /// The table as lines, columns padded to their widest cell (capped at `maxWidth`).
    public func render(maxWidth: Int = 40, header: (String) -> String = { $0 }) -> [String] {
        func clip(_ text: String) -> String {
            let single = text.replacingNewlines()
            return single.count > maxWidth ? String(single.prefix(maxWidth - 1)) + "…" : single
        }
        let cells = rows.map { $0.map(clip) }
        var widths = headers.map(\.count)
        for row in cells {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = Swift.max(widths[index], cell.count)
            }
        }
        func format(_ row: [String]) -> String {
            var line = ""
            for (index, cell) in row.enumerated() {
                if index == row.count - 1 {
                    line += cell
                } else {
                    line += cell + String(repeating: " ", count: widths[index] - cell.count + 2)
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
        return [header(format(headers))] + cells.map(format)
    }
}

extension String {
    func replacingNewlines() -> String {
        guard contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return self }
        return String(map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
    }
}
