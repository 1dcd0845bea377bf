/// Appends canonical JSON to a byte buffer: no whitespace, strings escaped the one way
/// ``RecordState`` documents, so the same state always yields the same bytes.
public struct JSONWriter: Sendable {
    /// The JSON written so far.
    public private(set) var bytes: [UInt8] = []

    /// Creates an empty writer with room for `capacity` bytes.
    public init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    /// Empties the writer, keeping its room: one writer serves many documents written in turn.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends trusted JSON syntax (punctuation, keys written by the program).
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends one byte of JSON syntax.
    public mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    /// Appends a non-negative integer.
    public mutating func number(_ value: UInt64) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[count] = UInt8(rest % 10) + 0x30
                rest /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) {
                bytes.append(buffer[index])
            }
        }
    }

    /// Appends an integer, negative ones with a leading `-`.
    public mutating func number(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        number(value.magnitude)
    }

    /// Appends a string literal, escaped.
    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var utf8 = value.utf8
        // Fast path: most values need no escaping at all.
        if utf8.withContiguousStorageIfAvailable({ buffer in
            if !buffer.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
                bytes.append(contentsOf: buffer)
                return true
            }
            return false
        }) == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        var copy = value
        copy.makeContiguousUTF8()
        utf8 = copy.utf8
        for unit in utf8 {
            switch unit {
            case 0x22: raw("\\\"")
            case 0x5C: raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0..<0x20:
                raw("\\u00")
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(hex[Int(unit >> 4)])
                bytes.append(hex[Int(unit & 0xF)])
            default: bytes.append(unit)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a timestamp string `"YYYY-MM-DDTHH:MM:SS.mmmZ"`.
    public mutating func timestamp(_ at: Timestamp) {
        let ms = at.millisecondsSinceEpoch
        let millisOfDay = Int(((ms % 86_400_000) + 86_400_000) % 86_400_000)
        let (year, month, day) = CalendarDate(at).components
        bytes.append(UInt8(ascii: "\""))
        digits(year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(millisOfDay / 3_600_000, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(millisOfDay / 60_000 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(millisOfDay / 1000 % 60, 2)
        bytes.append(UInt8(ascii: "."))
        digits(millisOfDay % 1000, 3)
        bytes.append(UInt8(ascii: "Z"))
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func digits(_ value: Int, _ width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(rest / divisor % 10) + 0x30)
            rest %= divisor
            divisor /= 10
        }
    }

    /// Appends a string literal, or `null`.
    public mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { raw("null") }
    }

    /// Appends bytes that already form a complete JSON value (e.g. a state read from storage).
    public mutating func rawJSON(_ value: some Sequence<UInt8>) {
        bytes.append(contentsOf: value)
    }

    /// Appends `true` or `false`.
    public mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }
}
