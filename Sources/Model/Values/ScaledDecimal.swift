/// Parsing of plain decimal text (`[-]digits[.digits]`, no exponent, no grouping) into a whole
/// number of `10^-places` units, shared by ``Money`` and ``DecimalText``.
enum ScaledDecimal {
    /// The value of `text` in units of `10^-places`, or `nil` when `text` has more than
    /// `maxIntegerDigits` integer digits, more than `places` decimals, or any other character.
    static func parse(_ text: String, maxIntegerDigits: Int, places: Int) -> Int64? {
        var text = text
        return text.withUTF8 { parse(utf8: $0, maxIntegerDigits: maxIntegerDigits, places: places) }
    }

    /// The value of the UTF-8 text `bytes`, by the rules of ``parse(_:maxIntegerDigits:places:)``
    /// (reports read amounts straight from cache bytes, without a `String` per value).
    static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>, maxIntegerDigits: Int, places: Int) -> Int64? {
        var i = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { i = 1 }
        var value: Int64 = 0, integerDigits = 0
        while i < bytes.count, bytes[i] != UInt8(ascii: ".") {
            let digit = bytes[i] &- 0x30
            guard digit <= 9 else { return nil }
            value = value * 10 + Int64(digit)
            integerDigits += 1
            guard integerDigits <= maxIntegerDigits else { return nil }
            i += 1
        }
        guard integerDigits >= 1 else { return nil }
        var fractionDigits = 0
        if i < bytes.count {
            i += 1  // the point
            guard i < bytes.count else { return nil }  // "12." has no decimals
            while i < bytes.count {
                let digit = bytes[i] &- 0x30
                guard digit <= 9, fractionDigits < places else { return nil }
                value = value * 10 + Int64(digit)
                fractionDigits += 1
                i += 1
            }
        }
        for _ in fractionDigits..<places { value *= 10 }
        return negative ? -value : value
    }

    /// `numerator / denominator` rounded half away from zero, as PostgreSQL's `round()` does
    /// on `numeric`. `denominator` must be positive.
    static func divideRounded(_ numerator: Int64, _ denominator: Int64) -> Int64 {
        let quotient = numerator / denominator, remainder = numerator % denominator
        let roundsAway = 2 * remainder.magnitude >= denominator.magnitude
        return quotient + (roundsAway ? (numerator < 0 ? -1 : 1) : 0)
    }
}
