extension CustomerBaseMetrics {
    /// The columns of one metrics row, named and ordered as SQL's `cx.customer_metrics`
    /// returns them, so a CSV from `cx report` reads like the server's result.
    public static let columnNames = [
        "period_start", "period_end", "gross_new", "active", "existing", "base_start", "base_end", "retained", "lost",
        "net_new", "revenue_new", "revenue_existing", "revenue_per_new", "revenue_per_existing",
    ] + CustomerStatus.allCases.map(\.rawValue)

    /// The values of ``columnNames``, as PostgreSQL prints them (dates `YYYY-MM-DD`, money
    /// with two decimals).
    public var columnValues: [String] {
        [
            start.description, end.description, "\(grossNew)", "\(active)", "\(existing)", "\(baseStart)", "\(baseEnd)",
            "\(retained)", "\(lost)", "\(netNew)", revenueNew.description, revenueExisting.description,
            revenuePerNew.description, revenuePerExisting.description,
        ] + CustomerStatus.allCases.map { "\(statusCounts[$0] ?? 0)" }
    }
}
