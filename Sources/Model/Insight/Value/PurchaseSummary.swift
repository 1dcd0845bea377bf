/// One customer's purchase history reduced to what the buy-till-you-die models read — the
/// recency/frequency/monetary (RFM) summary of `lifetimes`' `summary_data_from_transaction_data`
/// with its defaults: purchases on one day count as one purchase of their total, times are in
/// days, and the first purchase day only starts the clock.
public struct PurchaseSummary: Hashable, Sendable {
    /// Repeat purchases: days with a purchase after the first one (`frequency`).
    public var frequency: Double
    /// Time from the first to the last purchase day (`recency`; 0 without repeat purchases).
    public var recency: Double
    /// Time from the first purchase day to the end of the observation (`T`, the customer's age).
    public var age: Double
    /// Mean total of the repeat purchase days (`monetary_value`; 0 without repeat purchases).
    public var monetary: Double

    /// A summary from its figures (for data summarised elsewhere, e.g. the CDNOW set).
    public init(frequency: Double, recency: Double, age: Double, monetary: Double) {
        self.frequency = frequency
        self.recency = recency
        self.age = age
        self.monetary = monetary
    }

    /// The summary of `purchases` as known at the end of `observationEnd` (the day counted as
    /// time `age`; purchases after it are ignored). `nil` when no order falls on or before it.
    ///
    /// Credit notes (negative amounts, docs/sql-guide.md §4) are not purchases: a day with only
    /// credit notes is no purchase day. They reduce the spend: a credit note dated after the
    /// first purchase day subtracts from the repeat days' total, and the mean repeat spend is
    /// never below 0. Zero-value orders are purchase days that add no spend.
    public init?(purchases: [(on: CalendarDate, amount: Money)], observationEnd: CalendarDate) {
        var byDay: [CalendarDate: Int64] = [:]
        var credits: [(on: CalendarDate, cents: Int64)] = []
        for purchase in purchases where purchase.on <= observationEnd {
            if purchase.amount.isNegative {
                credits.append((purchase.on, purchase.amount.cents))
            } else {
                byDay[purchase.on, default: 0] += purchase.amount.cents
            }
        }
        guard let first = byDay.keys.min(), let last = byDay.keys.max() else { return nil }
        frequency = Double(byDay.count - 1)
        recency = Double(first.days(until: last))
        age = Double(first.days(until: observationEnd))
        let repeatCents = byDay.filter { $0.key != first }.values.reduce(0, +)
            + credits.filter { $0.on > first }.map(\.cents).reduce(0, +)
        monetary = byDay.count > 1 ? Double(max(0, repeatCents)) / 100 / frequency : 0
    }
}
