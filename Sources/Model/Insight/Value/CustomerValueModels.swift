/// The models a ``CustomerValueTable`` fitted, without its rows: enough to compute any one
/// customer's figures later from that customer's own purchases. `cx value` keeps them so that
/// `cx show` reads one customer's activities instead of refitting on the whole book; BG/NBD and
/// Gamma-Gamma describe the population, so models fitted on an earlier day still apply to a
/// customer's history as known today.
public struct CustomerValueModels: Hashable, Sendable {
    /// The observation end the models were fitted at.
    public var fittedAsOf: CalendarDate
    /// How many customers the fit read.
    public var customersFitted: Int
    /// The purchase model (α in days).
    public var purchaseModel: BetaGeometricNBD
    /// The spend model; `nil` when Gamma-Gamma could not be fitted (expected spend then falls
    /// back to ``meanRepeatSpend`` for one-time buyers and each customer's own mean otherwise).
    public var spendModel: GammaGammaSpend?
    /// The mean spend of the fitted book's repeat purchase days.
    public var meanRepeatSpend: Double

    /// Models from their parts (as fitted, or as read back from where they were kept).
    public init(
        fittedAsOf: CalendarDate, customersFitted: Int, purchaseModel: BetaGeometricNBD, spendModel: GammaGammaSpend?,
        meanRepeatSpend: Double
    ) {
        self.fittedAsOf = fittedAsOf
        self.customersFitted = customersFitted
        self.purchaseModel = purchaseModel
        self.spendModel = spendModel
        self.meanRepeatSpend = meanRepeatSpend
    }

    /// The figures of one customer whose history is `history`, as known at the end of
    /// `observationEnd`, looking `horizon` ahead; `nil` when no purchase falls on or before it.
    public func row(
        of history: CustomerValueTable.History, observationEnd: CalendarDate, horizon: ValueHorizon = .twelveMonths,
        monthlyDiscount: Double = 0
    ) -> CustomerValueTable.Row? {
        let pairs = history.purchases.map { (on: $0.on, amount: $0.amount) }
        guard let summary = PurchaseSummary(purchases: pairs, observationEnd: observationEnd) else { return nil }
        return row(
            id: history.id, name: history.name, summary: summary, horizonDays: horizon.days(after: observationEnd),
            steps: Self.steps(horizon, after: observationEnd), monthlyDiscount: monthlyDiscount)
    }

    /// The figures of one summarised customer (the table computes its steps once for all).
    func row(
        id: String, name: String, summary: PurchaseSummary, horizonDays: Int, steps: [(end: Double, discountExponent: Double)],
        monthlyDiscount: Double
    ) -> CustomerValueTable.Row {
        let spend = spendModel?.expectedAverageSpend(summary) ?? (summary.frequency > 0 ? summary.monetary : meanRepeatSpend)
        return CustomerValueTable.Row(
            id: id, name: name, summary: summary, probabilityAlive: purchaseModel.probabilityAlive(summary),
            expectedPurchases: purchaseModel.expectedPurchases(in: Double(horizonDays), given: summary), expectedSpend: spend,
            expectedValue: purchaseModel.expectedValue(given: summary, spendPerPurchase: spend, steps: steps, discount: monthlyDiscount))
    }

    /// The horizon's discounting steps after `observationEnd`: each step's end (days) and its
    /// discount exponent (months).
    static func steps(_ horizon: ValueHorizon, after observationEnd: CalendarDate) -> [(end: Double, discountExponent: Double)] {
        horizon.steps(after: observationEnd).enumerated().map { index, end in
            (end: Double(end), discountExponent: horizon.unit == .months ? Double(index + 1) : Double(end) / 30)
        }
    }
}
