/// Rows in the text format of `COPY … FROM STDIN` — columns separated by tabs, one row a line,
/// `\N` for NULL, backslash, tab, newline and carriage return escaped — built byte by byte for
/// ``PostgresConnection/copyIn(_:data:)``.
///
/// A row may leave its first column to be filled when the rows are sent
/// (``prefixingEachRow(with:)``): values such as sequence numbers that only the database hands
/// out, while the rest was encoded earlier, elsewhere.
public struct PostgresCopyText: Sendable {
    /// The rows so far, each ending in a newline.
    public private(set) var bytes: [UInt8]
    /// Where each row ends in ``bytes`` (after its newline).
    public private(set) var rowEnds: [Int] = []
    private var atRowStart = true

    public init(capacity: Int = 1 << 16) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The number of complete rows.
    public var rowCount: Int { rowEnds.count }

    /// A NULL column.
    public mutating func null() {
        separate()
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "N"))
    }

    /// A text column: the value's UTF-8 bytes, escaped.
    public mutating func text(_ value: String) {
        var value = value
        value.withUTF8 { text(bytes: $0) }
    }

    /// A column that is NULL when `value` is `nil`.
    public mutating func optionalText(_ value: String?) {
        if let value { text(value) } else { null() }
    }

    /// A text column from UTF-8 bytes, escaped.
    public mutating func text(bytes value: [UInt8]) {
        value.withUnsafeBufferPointer { text(bytes: $0) }
    }

    /// A text column from UTF-8 bytes, escaped. Runs without a byte to escape are copied whole.
    public mutating func text(bytes value: UnsafeBufferPointer<UInt8>) {
        separate()
        var runStart = 0
        for index in 0..<value.count {
            let escaped: UInt8
            switch value[index] {
            case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
            case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
            case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
            case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
            default: continue
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: value[runStart..<index]))
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(escaped)
            runStart = index + 1
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: value[runStart...]))
    }

    /// A boolean column (`t` / `f`).
    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    /// Ends the current row.
    public mutating func endRow() {
        bytes.append(UInt8(ascii: "\n"))
        rowEnds.append(bytes.count)
        atRowStart = true
    }

    /// The COPY input with `values[i]` as the first column of row `i`, the row's own columns after it.
    /// - Precondition: one value per row.
    public func prefixingEachRow(with values: [Int64]) -> [UInt8] {
        Self.prefixingEachRow(of: [self], with: values)
    }

    /// The COPY input of the rows of `pieces`, in order, with `values[i]` as the first column of
    /// row `i`: rows encoded separately (on other threads, ahead of time) joined in one copy.
    /// - Precondition: one value per row, and every row of every piece complete.
    public static func prefixingEachRow(of pieces: [PostgresCopyText], with values: [Int64]) -> [UInt8] {
        precondition(values.count == pieces.reduce(0) { $0 + $1.rowEnds.count }, "one leading value per row")
        precondition(pieces.allSatisfy(\.atRowStart), "complete rows only")
        var output: [UInt8] = []
        output.reserveCapacity(pieces.reduce(0) { $0 + $1.bytes.count } + values.count * 21)
        var next = values.makeIterator()
        for piece in pieces {
            var start = 0
            piece.bytes.withUnsafeBufferPointer { rows in
                for end in piece.rowEnds {
                    output.append(contentsOf: String(next.next()!).utf8)
                    output.append(UInt8(ascii: "\t"))
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: rows[start..<end]))
                    start = end
                }
            }
        }
        return output
    }

    private mutating func separate() {
        if atRowStart {
            atRowStart = false
        } else {
            bytes.append(UInt8(ascii: "\t"))
        }
    }
}
