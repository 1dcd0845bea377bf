/// The length of each period of a series (`cx report --every`, SQL
/// `cx.customer_metrics_series(…, step)` with `interval '1 month'`, `'3 months'`, `'1 year'`).
public enum ReportingStep: String, CaseIterable, Sendable {
    case month, quarter, year

    /// The step in calendar months.
    public var months: Int {
        switch self {
        case .month: 1
        case .quarter: 3
        case .year: 12
        }
    }

    /// The consecutive periods [start, end) that cover [from, to): the i-th starts `i` steps
    /// after `from` (calendar months, day clamped to the month's end, never drifting), the last
    /// ends at `to`. Empty when `to` is not after `from`.
    public func periods(from: CalendarDate, to: CalendarDate) -> [(start: CalendarDate, end: CalendarDate)] {
        var periods: [(start: CalendarDate, end: CalendarDate)] = []
        var index = 0
        var start = from
        while start < to {
            index += 1
            let next = from.adding(months: index * months)
            periods.append((start, min(next, to)))
            start = next
        }
        return periods
    }
}
