/// Converts bytes to and from `bytea`'s text representations.
///
/// Parameters are sent in hex format (`\x0a1b…`), which every supported server version accepts.
/// Results are read in hex format (the default `bytea_output`) and, for servers configured with
/// `bytea_output = escape`, in escape format too.
enum PostgresBytea {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// `\x` followed by two lowercase hex digits per byte.
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(2 + bytes.count * 2)
        utf8.append(UInt8(ascii: "\\"))
        utf8.append(UInt8(ascii: "x"))
        for byte in bytes {
            utf8.append(hexDigits[Int(byte >> 4)])
            utf8.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Decodes hex (`\x…`) or escape format; `nil` if the text is neither.
    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        if utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x") {
            return decodeHex(utf8[2...])
        }
        return decodeEscape(utf8)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func decodeHex(_ digits: ArraySlice<UInt8>) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = digits.startIndex
        while i < digits.endIndex {
            guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    /// Escape format: printable bytes as themselves, `\\` for a backslash, `\ooo` (octal) for the rest.
    private static func decodeEscape(_ utf8: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            let c = utf8[i]
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                i += 1
                continue
            }
            if i + 1 < utf8.count, utf8[i + 1] == UInt8(ascii: "\\") {
                out.append(c)
                i += 2
                continue
            }
            guard i + 3 < utf8.count else { return nil }
            var value = 0
            for digit in utf8[(i + 1)...(i + 3)] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(digit) else { return nil }
                value = value * 8 + Int(digit - UInt8(ascii: "0"))
            }
            guard value <= 255 else { return nil }
            out.append(UInt8(value))
            i += 4
        }
        return out
    }
}
