/// An exact money amount with two decimal places, held as a whole number of cents.
///
/// Money is never binary floating point: `0.10 + 0.20` must be `0.30` on every laptop and in
/// PostgreSQL's `numeric`.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible, AdditiveArithmetic {
    /// The amount in hundredths (cents).
    public var cents: Int64

    /// Creates an amount from cents.
    public init(cents: Int64) {
        self.cents = cents
    }

    /// Parses `[-]digits[.d[d]]` (at most 13 integer digits, at most 2 places); `nil` otherwise.
    public init?(_ text: String) {
        var bytes = Substring(text).utf8[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, (1...13).contains(whole.count),
            whole.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { return nil }
        var cents = whole.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) } * 100
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...2).contains(fraction.count), fraction.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return nil
            }
            let digits = fraction.map { Int64($0 - 0x30) }
            cents += digits[0] * 10 + (digits.count == 2 ? digits[1] : 0)
        }
        self.cents = negative ? -cents : cents
    }

    /// Zero.
    public static let zero = Money(cents: 0)

    /// Whether the amount is greater than zero.
    public var isPositive: Bool { cents > 0 }

    public static func + (lhs: Money, rhs: Money) -> Money { Money(cents: lhs.cents + rhs.cents) }
    public static func - (lhs: Money, rhs: Money) -> Money { Money(cents: lhs.cents - rhs.cents) }
    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.cents < rhs.cents }

    /// The canonical text, always with two places: `120.00`, `-3.50`.
    public var description: String {
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return (cents < 0 ? "-" : "") + "\(magnitude / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }
}
