/// The audited customer-base figures for a period P = [start, end).
///
/// With base(t) = customers with a purchase in (t−W, t]: `gross_new` counts customers whose
/// first purchase ever falls in P; `active` those with a purchase in P; `existing` the active
/// ones whose first purchase is before `start`; `base_start` = |base(start−1)|, `base_end` =
/// |base(end−1)|, `retained` = |base(start−1) ∩ base(end−1)|, `lost` = base_start − retained,
/// `net_new` = base_end − base_start; revenue in P split between new and existing customers,
/// and per customer (0 when there is none); plus the count per status as of end−1.
///
/// Credit notes and zero-value orders (docs/sql-guide.md §4): a "purchase" above — first
/// purchase, active, base — is an order (amount ≥ 0, zero-value orders included); a credit
/// note (amount < 0) only subtracts revenue, in the period of its own date. Revenue is net:
/// `revenue_new` is the net revenue in P of the customers whose first order falls in P,
/// `revenue_existing` that of the customers whose first order is before P — a credit note of a
/// customer without an order in P still counts there, so the two add up to the period's net
/// revenue (customers without any order before `end` count nowhere).
public struct CustomerBaseMetrics: Hashable, Sendable {
    /// First day of the period.
    public let start: CalendarDate
    /// First day after the period.
    public let end: CalendarDate
    /// Customers whose first purchase ever falls in the period.
    public let grossNew: Int
    /// Customers with a purchase in the period.
    public let active: Int
    /// Active customers whose first purchase is before the period.
    public let existing: Int
    /// |base(start − 1 day)|.
    public let baseStart: Int
    /// |base(end − 1 day)|.
    public let baseEnd: Int
    /// Customers in both bases.
    public let retained: Int
    /// base_start − retained.
    public let lost: Int
    /// base_end − base_start.
    public let netNew: Int
    /// Revenue in the period from new customers.
    public let revenueNew: Money
    /// Revenue in the period from existing customers.
    public let revenueExisting: Money
    /// revenue_new / gross_new, rounded half away from zero to the cent; 0 when gross_new is 0.
    public let revenuePerNew: Money
    /// revenue_existing / existing, rounded half away from zero to the cent; 0 when existing is 0.
    public let revenuePerExisting: Money
    /// Customers per status as of end−1 (every status present, zeros included).
    public let statusCounts: [CustomerStatus: Int]

    /// Computes the metrics of `book` for [start, end).
    public init(book: CustomerBook, start: CalendarDate, end: CalendarDate, settings: ClassificationSettings = .default) {
        self.init(histories: book.histories(), start: start, end: end, settings: settings)
    }

    /// Computes the metrics of [start, end) from every customer's history (looked up once for
    /// a whole series of periods).
    init(histories: [CustomerBook.History], start: CalendarDate, end: CalendarDate, settings: ClassificationSettings) {
        self.start = start
        self.end = end
        let window = settings.windowDays
        let lastBefore = start.adding(days: -1), lastIn = end.adding(days: -1)
        // base(t) holds purchases in (t − W, t].
        let startBaseFrom = lastBefore.adding(days: -window), endBaseFrom = lastIn.adding(days: -window)
        var grossNew = 0, active = 0, existing = 0, baseStart = 0, baseEnd = 0, retained = 0
        var revenueNew: Int64 = 0, revenueExisting: Int64 = 0
        // One pass per customer over its purchases; a book restricted to a group visits only
        // the group's customers.
        for history in histories {
            let purchases = history.purchases
            guard !purchases.isEmpty else { continue }
            var first: CalendarDate?
            var revenue: Int64 = 0, inPeriod = false, wasInBase = false, isInBase = false
            for purchase in purchases {
                let on = purchase.on
                let isPeriod = on >= start && on < end
                // Net revenue: credit notes subtract on their own date.
                if isPeriod { revenue += purchase.amount.cents }
                // Only orders (amount ≥ 0) make a customer new, active or part of the base.
                guard !purchase.amount.isNegative else { continue }
                if first.map({ on < $0 }) ?? true { first = on }
                if isPeriod { inPeriod = true }
                if on > startBaseFrom && on <= lastBefore { wasInBase = true }
                if on > endBaseFrom && on <= lastIn { isInBase = true }
            }
            guard let first else { continue }
            if first >= start && first < end {
                grossNew += 1
                revenueNew += revenue
            } else if first < start {
                revenueExisting += revenue
                if inPeriod { existing += 1 }
            }
            if inPeriod { active += 1 }
            if wasInBase { baseStart += 1 }
            if isInBase { baseEnd += 1 }
            if wasInBase && isInBase { retained += 1 }
        }
        self.grossNew = grossNew
        self.active = active
        self.existing = existing
        self.baseStart = baseStart
        self.baseEnd = baseEnd
        self.retained = retained
        lost = baseStart - retained
        netNew = baseEnd - baseStart
        self.revenueNew = Money(cents: revenueNew)
        self.revenueExisting = Money(cents: revenueExisting)
        revenuePerNew = Self.divide(self.revenueNew, by: grossNew)
        revenuePerExisting = Self.divide(self.revenueExisting, by: existing)
        let classifier = CustomerClassifier(settings: settings)
        var counts = Dictionary(uniqueKeysWithValues: CustomerStatus.allCases.map { ($0, 0) })
        for history in histories {
            counts[classifier.figures(of: history, asOf: lastIn).status, default: 0] += 1
        }
        statusCounts = counts
    }

    /// `amount / count` to the cent, half away from zero (as PostgreSQL's `round(numeric, 2)`).
    static func divide(_ amount: Money, by count: Int) -> Money {
        guard count > 0 else { return .zero }
        return Money(cents: ScaledDecimal.divideRounded(amount.cents, Int64(count)))
    }
}
