extension CustomerValueTable {
    /// The column names of a row, as in SQL's `cx.customer_value`.
    public static let columnNames = [
        "customer_id", "name", "frequency", "recency", "t", "monetary", "p_alive", "expected_purchases", "expected_spend",
        "expected_value",
    ]

    /// The columns holding whole numbers.
    public static let integerColumns: Set<String> = ["frequency", "recency", "t"]

    /// The fitted parameters by name (BG/NBD's r, alpha (per day), a, b; Gamma-Gamma's p, q, v),
    /// as SQL's `cx.customer_value` columns name them, each to six decimal places; `nil` for
    /// Gamma-Gamma's when it could not be fitted.
    public var parameterValues: [(name: String, value: String?)] {
        let purchase = [("r", purchaseModel.r), ("alpha", purchaseModel.alpha), ("a", purchaseModel.a), ("b", purchaseModel.b)]
        let spend = [("p", spendModel?.p), ("q", spendModel?.q), ("v", spendModel?.v)]
        return purchase.map { ($0.0, Self.fixed($0.1, places: 6)) } + spend.map { ($0.0, $0.1.map { Self.fixed($0, places: 6) }) }
    }

    /// How expected spend was estimated, as SQL's `cx.customer_value.spend_model`:
    /// `gamma-gamma`, or `customer-mean` when that model could not be fitted.
    public var spendModelName: String { spendModel == nil ? "customer-mean" : "gamma-gamma" }

    /// One row's values as text, in the order of ``columnNames``: counts and days whole,
    /// money to the cent, the probability and expected purchases to four places (half away
    /// from zero). SQL stores exactly these texts.
    public static func columnValues(_ row: Row) -> [String] {
        [
            row.id, row.name, fixed(row.summary.frequency, places: 0), fixed(row.summary.recency, places: 0),
            fixed(row.summary.age, places: 0), fixed(row.summary.monetary, places: 2), fixed(row.probabilityAlive, places: 4),
            fixed(row.expectedPurchases, places: 4), fixed(row.expectedSpend, places: 2), fixed(row.expectedValue, places: 2),
        ]
    }

    /// `x` with `places` decimals, rounded half away from zero; `NaN` when not finite or too large.
    public static func fixed(_ x: Double, places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (x * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled.isFinite, abs(scaled) < 9e15 else { return "NaN" }
        let units = Int64(scaled)
        guard places > 0 else { return "\(units)" }
        let magnitude = units.magnitude
        var fraction = String(magnitude % UInt64(scale))
        fraction = String(repeating: "0", count: places - fraction.count) + fraction
        return (units < 0 ? "-" : "") + "\(magnitude / UInt64(scale))." + fraction
    }
}
