/// Converts bytes to and from `bytea`'s text representations.
///
/// Parameters are sent and results read in hex format (`\x0a1b…`), the default `bytea_output`.
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

    /// Decodes hex format (`\x…`, the server's default `bytea_output`); `nil` for anything else.
    ///
    /// The older escape format is not accepted: any plain text is valid escape format, so
    /// accepting it would let a text column silently decode as bytes.
    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x") else {
            return nil
        }
        return decodeHex(utf8[2...])
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
}
