/// How far ahead customer value looks: a number of calendar months, weeks or days
/// (`12m`, `52w`, `365d`), from the day after the observation end.
public struct ValueHorizon: Hashable, Sendable, CustomStringConvertible {
    /// The unit of a horizon.
    public enum Unit: String, Hashable, Sendable {
        /// Calendar months (`m`).
        case months = "m"
        /// Weeks of 7 days (`w`).
        case weeks = "w"
        /// Days (`d`).
        case days = "d"
    }

    /// How many units.
    public let count: Int
    /// The unit.
    public let unit: Unit

    /// The default: 12 months.
    public static let twelveMonths = ValueHorizon(count: 12, unit: .months)!

    /// A horizon of `count` (1–1200 months, 1–5200 weeks, 1–36500 days) units.
    public init?(count: Int, unit: Unit) {
        let limit = switch unit {
        case .months: 1200
        case .weeks: 5200
        case .days: 36500
        }
        guard count >= 1, count <= limit else { return nil }
        self.count = count
        self.unit = unit
    }

    /// Parses `12m`, `52w` or `365d`; `nil` otherwise.
    public init?(_ text: String) {
        guard let last = text.last, let unit = Unit(rawValue: String(last)),
            let count = Int(text.dropLast()), text.dropLast().allSatisfy(\.isASCII)
        else { return nil }
        self.init(count: count, unit: unit)
    }

    /// `12m`, `52w`, `365d`.
    public var description: String { "\(count)\(unit.rawValue)" }

    /// The month boundaries of the horizon after `observationEnd`, as days from it: the end of
    /// each calendar month (for weeks and days, of each 30 days) and, last, the horizon's end.
    /// Discounting is applied per such step, as `lifetimes` discounts per month.
    public func steps(after observationEnd: CalendarDate) -> [Int] {
        let total = days(after: observationEnd)
        var steps: [Int] = []
        switch unit {
        case .months:
            steps = (1...count).map { observationEnd.days(until: observationEnd.adding(months: $0)) }
        case .weeks, .days:
            steps = Array(stride(from: 30, to: total, by: 30)) + [total]
        }
        return steps
    }

    /// The horizon's length in days after `observationEnd`.
    public func days(after observationEnd: CalendarDate) -> Int {
        switch unit {
        case .months: observationEnd.days(until: observationEnd.adding(months: count))
        case .weeks: 7 * count
        case .days: count
        }
    }
}
