/// Parsing of plain decimal text (`[-]digits[.digits]`, no exponent, no grouping) into a whole
/// number of `10^-places` units, shared by ``Money`` and ``DecimalText``.
enum ScaledDecimal {
    /// The value of `text` in units of `10^-places`, or `nil` when `text` has more than
    /// `maxIntegerDigits` integer digits, more than `places` decimals, or any other character.
    static func parse(_ text: String, maxIntegerDigits: Int, places: Int) -> Int64? {
        var bytes = Substring(text).utf8[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, (1...maxIntegerDigits).contains(whole.count),
            whole.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { return nil }
        var scale: Int64 = 1
        for _ in 0..<places { scale *= 10 }
        var value = whole.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) } * scale
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...places).contains(fraction.count), fraction.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return nil
            }
            for digit in fraction {
                scale /= 10
                value += Int64(digit - 0x30) * scale
            }
        }
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
