/// A small exact decimal with at most four places, held in ten-thousandths; used for margins
/// (`0.12`, `-0.075`), where four places (basis points) are plenty and keep every sum exact.
public struct DecimalText: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The value in ten-thousandths (basis points for a fraction).
    public let tenThousandths: Int64

    /// Creates a value from ten-thousandths.
    public init(tenThousandths: Int64) {
        self.tenThousandths = tenThousandths
    }

    /// Parses `[-]digits[.digits]` with at most 9 integer digits and 4 places; `nil` otherwise.
    public init?(_ text: String) {
        guard let value = ScaledDecimal.parse(text, maxIntegerDigits: 9, places: 4) else { return nil }
        tenThousandths = value
    }

    /// Parses UTF-8 bytes by the same rules as ``init(_:)``.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard let value = ScaledDecimal.parse(utf8: bytes, maxIntegerDigits: 9, places: 4) else { return nil }
        tenThousandths = value
    }

    /// Whether the value lies in [-1, 1].
    public var isWithinUnitRange: Bool { (-10_000...10_000).contains(tenThousandths) }

    public static func < (lhs: DecimalText, rhs: DecimalText) -> Bool { lhs.tenThousandths < rhs.tenThousandths }

    /// The shortest exact text: `0.12`, `-0.075`, `1`.
    public var description: String {
        let magnitude = tenThousandths.magnitude
        var text = (tenThousandths < 0 ? "-" : "") + String(magnitude / 10_000)
        var fraction = magnitude % 10_000
        if fraction != 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: 4 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
            fraction = 0
        }
        return text
    }
}
