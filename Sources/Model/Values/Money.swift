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
        guard let cents = ScaledDecimal.parse(text, maxIntegerDigits: 13, places: 2) else { return nil }
        self.cents = cents
    }

    /// Parses UTF-8 bytes by the same rules as ``init(_:)``.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard let value = ScaledDecimal.parse(utf8: bytes, maxIntegerDigits: 13, places: 2) else { return nil }
        self.cents = value
    }

    /// Zero.
    public static let zero = Money(cents: 0)

    /// Whether the amount is greater than zero.
    public var isPositive: Bool { cents > 0 }

    /// Whether the amount is less than zero (a credit note's).
    public var isNegative: Bool { cents < 0 }

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
