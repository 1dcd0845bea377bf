#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Every customer's value, from BG/NBD (how many more purchases) and Gamma-Gamma (how much
/// each) fitted on the book itself: `cx value` on the laptop, `cx.customer_value` on the server
/// after `cx-server value refresh`.
///
/// Customers count from their first purchase on or before the observation end (leads have no
/// history to project). Times are in days; a month in the discounting is a calendar month.
public struct CustomerValueTable: Hashable, Sendable {
    /// One customer's purchase history, as read from a cache or from PostgreSQL.
    public struct History: Hashable, Sendable {
        /// The customer id.
        public var id: String
        /// Displayed name.
        public var name: String
        /// Purchase days and amounts (any order; days may repeat).
        public var purchases: [DatedAmount]

        /// A history.
        public init(id: String, name: String, purchases: [DatedAmount]) {
            self.id = id
            self.name = name
            self.purchases = purchases
        }
    }

    /// A purchase's day and amount.
    public struct DatedAmount: Hashable, Sendable {
        /// The day.
        public var on: CalendarDate
        /// The amount.
        public var amount: Money

        /// A purchase's day and amount.
        public init(on: CalendarDate, amount: Money) {
            self.on = on
            self.amount = amount
        }
    }

    /// One customer's figures.
    public struct Row: Hashable, Sendable {
        /// The customer id.
        public var id: String
        /// Displayed name.
        public var name: String
        /// Frequency, recency (days), age T (days) and mean repeat spend.
        public var summary: PurchaseSummary
        /// The probability the customer is still alive (will buy again) at the observation end.
        public var probabilityAlive: Double
        /// Expected purchases within the horizon.
        public var expectedPurchases: Double
        /// Expected spend per future purchase (Gamma-Gamma).
        public var expectedSpend: Double
        /// Expected (discounted) revenue within the horizon: expected spend × expected purchases.
        public var expectedValue: Double
    }

    /// The last day of observed history (the as-of day); the horizon starts the day after.
    public let observationEnd: CalendarDate
    /// How far ahead the expectations look.
    public let horizon: ValueHorizon
    /// The horizon in days.
    public let horizonDays: Int
    /// The discount rate per month applied to expected value (0: undiscounted).
    public let monthlyDiscount: Double
    /// The fitted purchase model (α in days).
    public let purchaseModel: BetaGeometricNBD
    /// The fitted spend model; `nil` when Gamma-Gamma could not be fitted on the book (see
    /// ``spendFitFailure``): each customer's expected spend is then their own mean repeat spend,
    /// and the book's mean repeat spend for customers who bought once — the limits Gamma-Gamma's
    /// estimate moves between.
    public let spendModel: GammaGammaSpend?
    /// Why Gamma-Gamma could not be fitted, when it could not (e.g. spend too uniform to estimate
    /// its spread). The purchase model and every other figure are unaffected.
    public let spendFitFailure: CustomerValueError?
    /// Both models, to compute one customer's figures later (``CustomerValueModels/row(of:observationEnd:horizon:monthlyDiscount:)``).
    public let models: CustomerValueModels
    /// The customers, highest expected value first (ties by id).
    public let rows: [Row]

    /// Fits both models on `book` as known at the end of `observationEnd` and computes every
    /// customer's figures.
    /// - Throws: ``CustomerValueError`` when the book is too small or a fit fails.
    public init(
        book: CustomerBook, observationEnd: CalendarDate, horizon: ValueHorizon = .twelveMonths, monthlyDiscount: Double = 0
    ) throws(CustomerValueError) {
        let histories = book.customers.values.compactMap { customer -> History? in
            guard let purchases = book.purchases[customer.id], !purchases.isEmpty else { return nil }
            return History(id: customer.id, name: customer.name, purchases: purchases.map { DatedAmount(on: $0.on, amount: $0.amount) })
        }
        try self.init(histories: histories, observationEnd: observationEnd, horizon: horizon, monthlyDiscount: monthlyDiscount)
    }

    /// Fits both models on `histories` as known at the end of `observationEnd` and computes
    /// every customer's figures. When only the spend model fails, expected spend falls back to
    /// means (see ``spendModel``) instead of failing the whole table.
    /// - Throws: ``CustomerValueError`` when the book is too small or the purchase model's fit fails.
    public init(
        histories: [History], observationEnd: CalendarDate, horizon: ValueHorizon = .twelveMonths, monthlyDiscount: Double = 0
    ) throws(CustomerValueError) {
        var summarised: [(History, PurchaseSummary)] = []
        for history in histories {
            let pairs = history.purchases.map { (on: $0.on, amount: $0.amount) }
            if let summary = PurchaseSummary(purchases: pairs, observationEnd: observationEnd) {
                summarised.append((history, summary))
            }
        }
        // A deterministic order for the fit (the sums do not depend on it beyond rounding).
        summarised.sort { $0.0.id < $1.0.id }
        let summaries = summarised.map(\.1)
        let purchaseModel = try BetaGeometricNBD.fit(summaries)
        var spendModel: GammaGammaSpend?, spendFitFailure: CustomerValueError?
        do {
            spendModel = try GammaGammaSpend.fit(summaries)
        } catch {
            spendFitFailure = error
        }
        let models = CustomerValueModels(
            fittedAsOf: observationEnd, customersFitted: summaries.count, purchaseModel: purchaseModel, spendModel: spendModel,
            meanRepeatSpend: Self.meanRepeatSpend(summaries))
        let horizonDays = horizon.days(after: observationEnd)
        let steps = CustomerValueModels.steps(horizon, after: observationEnd)
        var rows = summarised.map { history, summary in
            models.row(
                id: history.id, name: history.name, summary: summary, horizonDays: horizonDays, steps: steps, monthlyDiscount: monthlyDiscount)
        }
        rows.sort { ($0.expectedValue, $1.id) > ($1.expectedValue, $0.id) }
        self.observationEnd = observationEnd
        self.horizon = horizon
        self.horizonDays = horizonDays
        self.monthlyDiscount = monthlyDiscount
        self.purchaseModel = purchaseModel
        self.spendModel = spendModel
        self.spendFitFailure = spendFitFailure
        self.models = models
        self.rows = rows
    }

    /// The mean spend of all repeat purchase days of the book (0 when there is none).
    static func meanRepeatSpend(_ summaries: [PurchaseSummary]) -> Double {
        var total = 0.0, days = 0.0
        for summary in summaries where summary.frequency > 0 {
            total += summary.monetary * summary.frequency
            days += summary.frequency
        }
        return days > 0 ? total / days : 0
    }
}

extension BetaGeometricNBD {
    /// The expected revenue of the purchases in the steps, each step's expected purchases
    /// E[Y(endₖ)] − E[Y(endₖ₋₁)] times `spendPerPurchase`, discounted by (1 + discount)^exponentₖ
    /// — `lifetimes`' `customer_lifetime_value` when the steps are its months.
    public func expectedValue(
        given s: PurchaseSummary, spendPerPurchase: Double, steps: [(end: Double, discountExponent: Double)], discount: Double
    ) -> Double {
        guard let last = steps.last else { return 0 }
        if discount == 0 { return spendPerPurchase * expectedPurchases(in: last.end, given: s) }
        var value = 0.0, previous = 0.0, previousEnd = 0.0
        for step in steps {
            let cumulative = step.end == previousEnd ? previous : expectedPurchases(in: step.end, given: s)
            value += spendPerPurchase * (cumulative - previous) / pow(1 + discount, step.discountExponent)
            previous = cumulative
            previousEnd = step.end
        }
        return value
    }
}
