/// Customers grouped by the calendar period of their first purchase (their cohort), and what
/// each cohort did in that period and every period after: how many were still active — in the
/// customer base (a purchase within the classification window before the period's last day) —
/// and how much they spent. `cx cohorts` on the laptop, SQL `cx.cohorts(step, from, to)`.
public struct CohortTable: Hashable, Sendable {
    /// One cohort in one period.
    public struct Cell: Hashable, Sendable {
        /// First day of the cohort's period (the period of its customers' first purchase).
        public let cohortStart: CalendarDate
        /// First day of the period the figures are for.
        public let periodStart: CalendarDate
        /// First day after that period.
        public let periodEnd: CalendarDate
        /// The cohort's size: live customers whose first purchase ever is in the cohort's period.
        public let customers: Int
        /// Those in the customer base on the period's last day: a purchase in (end−1−W, end−1].
        public let active: Int
        /// What the cohort spent in the period.
        public let revenue: Money

        /// `active / customers` in percent, to one decimal, rounded half away from zero
        /// (PostgreSQL's `round(100.0 * active / customers, 1)`), e.g. `"33.3"`.
        public var retentionText: String {
            let tenths = ScaledDecimal.divideRounded(Int64(active) * 1000, Int64(customers))
            return "\(tenths / 10).\(tenths % 10)"
        }
    }

    /// The cells, by cohort and then by period, oldest first. Cohorts without customers have none.
    public let cells: [Cell]

    /// The cohorts of the calendar periods of `step` (months start on the 1st, quarters in
    /// January, April, July and October, years on January 1) that start in [from, to), the
    /// first being the period that contains `from`; each followed through every such period.
    /// Periods are whole calendar periods, the last one included even where it runs past `to`.
    public init(book: CustomerBook, step: ReportingStep, from: CalendarDate, to: CalendarDate, settings: ClassificationSettings = .default) {
        let first = step.calendarPeriodStart(containing: from)
        var periods: [(start: CalendarDate, end: CalendarDate)] = []
        while true {
            let start = first.adding(months: periods.count * step.months)
            guard start < to else { break }
            periods.append((start, first.adding(months: (periods.count + 1) * step.months)))
        }
        guard let last = periods.last else {
            cells = []
            return
        }
        // Each customer's cohort (period index) by first order ever: a credit note (amount < 0)
        // makes no one a customer and keeps no one active; it subtracts from the revenue of its
        // period (net revenue, docs/sql-guide.md §4).
        var members: [[[CustomerBook.Purchase]]] = Array(repeating: [], count: periods.count)
        for (id, purchases) in book.purchases where book.customers[id] != nil {
            guard let firstOn = purchases.lazy.filter({ !$0.amount.isNegative }).map(\.on).min(),
                firstOn >= first, firstOn < last.end,
                let index = periods.firstIndex(where: { firstOn < $0.end })
            else { continue }
            members[index].append(purchases)
        }
        let window = settings.windowDays
        var cells: [Cell] = []
        for (cohort, cohortPurchases) in members.enumerated() where !cohortPurchases.isEmpty {
            for period in periods[cohort...] {
                let lastDay = period.end.adding(days: -1)
                var active = 0
                var revenue = Money.zero
                for purchases in cohortPurchases {
                    if purchases.contains(where: { !$0.amount.isNegative && $0.on > lastDay.adding(days: -window) && $0.on <= lastDay }) {
                        active += 1
                    }
                    for purchase in purchases where purchase.on >= period.start && purchase.on < period.end {
                        revenue = revenue + purchase.amount
                    }
                }
                cells.append(
                    Cell(
                        cohortStart: periods[cohort].start, periodStart: period.start, periodEnd: period.end,
                        customers: cohortPurchases.count, active: active, revenue: revenue))
            }
        }
        self.cells = cells
    }
}

extension ReportingStep {
    /// The first day of the calendar period of this step that contains `date`.
    public func calendarPeriodStart(containing date: CalendarDate) -> CalendarDate {
        let (year, month, _) = date.components
        let startMonth = (month - 1) / months * months + 1
        return CalendarDate(year: year, month: startMonth, day: 1)!
    }
}
