import Testing

@testable import CXModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The customer-value models' pieces against values computed with `lifetimes` 0.11.3 and SciPy
/// 1.17.1 (the script lines are in the comments), and the fit against a simulated book.
@Suite struct CustomerValueTests {
    /// `a` and `b` agree to a relative `tolerance`.
    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
        abs(a - b) <= tolerance * max(abs(a), abs(b), 1e-300)
    }

    // scipy.special.hyp2f1(a, b, c, z)
    @Test(arguments: [
        (1.5, 2.5, 3.5, 0.3, 1.452767637957694),
        (0.3, 3.1, 2.2, 0.9, 4.01506182366966),
        (10.24, 12.4, 12.2, 0.92, 273778070840.52023),
        (40.2, 42.4, 42.2, 0.5, 1443840196780.2126),
        (0.25, 2.5, 2.3, 0.999, 11.36253603855595),
    ])
    func hypergeometric(_ a: Double, _ b: Double, _ c: Double, _ z: Double, _ expected: Double) throws {
        let value = try #require(SpecialFunctions.logHypergeometric2F1(a, b, c, z))
        #expect(Self.close(exp(value), expected, 1e-11), "2F1(\(a), \(b); \(c); \(z)) = \(exp(value)), SciPy \(expected)")
    }

    @Test func hypergeometricEdges() {
        #expect(SpecialFunctions.logHypergeometric2F1(1, 2, 3, 0) == 0)
        #expect(SpecialFunctions.logHypergeometric2F1(1, 2, 3, 1) == nil)
        // A terminating series: 2F1(−2, b; c; z) = 1 − 2bz/c + b(b+1)z²/(c(c+1)).
        let value = SpecialFunctions.logHypergeometric2F1(-2, 1.5, 2, 0.5)!
        let b = 1.5, c = 2.0, z = 0.5
        let expected: Double = 1 - 2 * b * z / c + b * (b + 1) * z * z / (c * (c + 1))
        #expect(Self.close(exp(value), expected, 1e-14))
    }

    static let bgModel = BetaGeometricNBD(r: 0.25, alpha: 4.0, a: 0.8, b: 2.5)
    static let histories = [
        PurchaseSummary(frequency: 0, recency: 0, age: 38.86, monetary: 0),
        PurchaseSummary(frequency: 1, recency: 1.71, age: 38.86, monetary: 0),
        PurchaseSummary(frequency: 2, recency: 30.43, age: 38.86, monetary: 0),
        PurchaseSummary(frequency: 7, recency: 20, age: 30, monetary: 0),
        PurchaseSummary(frequency: 30, recency: 37, age: 38, monetary: 0),
    ]

    // -BetaGeoFitter._negative_log_likelihood(log([0.25, 4.0, 0.8, 2.5]), x, t_x, T, 1, 0)
    @Test func bgnbdLogLikelihood() {
        let expected = [-0.592911157231385, -4.410198322001653, -9.437597616350775, -19.768233377694404, -43.93056636925782]
        for (summary, value) in zip(Self.histories, expected) {
            #expect(Self.close(Self.bgModel.logLikelihood(summary), value, 1e-12), "\(summary)")
        }
        #expect(Self.close(Self.bgModel.meanLogLikelihood(Self.histories), expected.reduce(0, +) / 5, 1e-12))
    }

    // conditional_expected_number_of_purchases_up_to_time(52, …), conditional_probability_alive(…)
    @Test func bgnbdExpectations() {
        let purchases = [0.2618469216137966, 0.24983600678072088, 1.5793630176470899, 3.615511388028058, 25.530835437035602]
        let alive = [1, 0.20097436366889368, 0.7277293138378392, 0.45958490957401643, 0.9499877047469246]
        for (index, summary) in Self.histories.enumerated() {
            #expect(Self.close(Self.bgModel.expectedPurchases(in: 52, given: summary), purchases[index], 1e-10), "\(summary)")
            #expect(Self.close(Self.bgModel.probabilityAlive(summary), alive[index], 1e-12), "\(summary)")
        }
        #expect(Self.bgModel.expectedPurchases(in: 0, given: Self.histories[2]) == 0)
    }

    // -GammaGammaFitter._negative_log_likelihood(log([6.0, 3.5, 15.0]), x, m, 1, 0)
    @Test func gammaGammaLogLikelihood() {
        let model = GammaGammaSpend(p: 6, q: 3.5, v: 15)
        let cases: [(Double, Double, Double)] = [(2, 22.35, -3.579981871050528), (1, 11.77, -3.7223642606696714), (10, 40, -4.317554492293652)]
        for (x, m, expected) in cases {
            let summary = PurchaseSummary(frequency: x, recency: 1, age: 2, monetary: m)
            #expect(Self.close(model.meanLogLikelihood([summary]), expected, 1e-12), "x \(x), m \(m)")
        }
        // No repeat purchase: the population mean v·p/(q−1).
        let none = PurchaseSummary(frequency: 0, recency: 0, age: 5, monetary: 0)
        #expect(Self.close(model.expectedAverageSpend(none), 15 * 6 / 2.5))
    }

    @Test func nelderMeadFindsTheRosenbrockMinimum() {
        let result = NelderMead().minimize(
            { x in (1 - x[0]) * (1 - x[0]) + 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]) }, from: [-1.2, 1])
        #expect(result.converged)
        #expect(abs(result.point[0] - 1) < 1e-6 && abs(result.point[1] - 1) < 1e-6, "\(result.point)")
    }

    @Test func summaryAggregatesDaysAsLifetimesDoes() throws {
        let d = { CalendarDate($0)! }
        let purchases: [(on: CalendarDate, amount: Money)] = [
            (d("2025-01-10"), Money("100.00")!), (d("2025-01-10"), Money("20.00")!),  // the first day: not monetary
            (d("2025-02-01"), Money("30.00")!), (d("2025-02-01"), Money("10.50")!), (d("2025-03-01"), Money("9.50")!),
            (d("2025-06-01"), Money("999.00")!),  // after the observation end
        ]
        let summary = try #require(PurchaseSummary(purchases: purchases, observationEnd: d("2025-03-31")))
        #expect(summary == PurchaseSummary(frequency: 2, recency: 50, age: 80, monetary: 25))
        let single = try #require(PurchaseSummary(purchases: Array(purchases.prefix(2)), observationEnd: d("2025-03-31")))
        #expect(single == PurchaseSummary(frequency: 0, recency: 0, age: 80, monetary: 0))
        #expect(PurchaseSummary(purchases: purchases, observationEnd: d("2025-01-09")) == nil)
    }

    @Test func horizons() {
        #expect(ValueHorizon("12m") == .twelveMonths)
        #expect(ValueHorizon("52w")?.days(after: CalendarDate("2025-01-31")!) == 364)
        #expect(ValueHorizon("365d")?.description == "365d")
        for bad in ["", "m", "12", "0m", "-1d", "1y", "1.5m", "１m", "1201m"] { #expect(ValueHorizon(bad) == nil, "\(bad)") }
        let end = CalendarDate("2025-01-31")!
        #expect(ValueHorizon("3m")!.steps(after: end) == [28, 59, 89])
        #expect(ValueHorizon("3m")!.days(after: end) == 89)
        #expect(ValueHorizon("10w")!.steps(after: end) == [30, 60, 70])
        #expect(ValueHorizon("60d")!.steps(after: end) == [30, 60])
    }

    @Test func fixedDecimals() {
        #expect(CustomerValueTable.fixed(1.005, places: 2) == "1.00" || CustomerValueTable.fixed(1.005, places: 2) == "1.01")
        #expect(CustomerValueTable.fixed(0.12345, places: 4) == "0.1235")
        #expect(CustomerValueTable.fixed(-2.5, places: 0) == "-3")
        #expect(CustomerValueTable.fixed(3, places: 2) == "3.00")
        #expect(CustomerValueTable.fixed(0.0001, places: 4) == "0.0001")
        #expect(CustomerValueTable.fixed(.nan, places: 2) == "NaN")
    }

    /// A seeded generator (SplitMix64) and the distributions the simulation draws from.
    struct Simulator {
        var state: UInt64

        mutating func uniform() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return (Double(z >> 11) + 0.5) / Double(1 << 53)
        }

        mutating func normal() -> Double {
            sqrt(-2 * log(uniform())) * cos(2 * Double.pi * uniform())
        }

        /// Gamma(shape, 1) (Marsaglia–Tsang, boosted below shape 1).
        mutating func gamma(_ shape: Double) -> Double {
            if shape < 1 { return gamma(shape + 1) * pow(uniform(), 1 / shape) }
            let d = shape - 1.0 / 3, c = 1 / sqrt(9 * d)
            while true {
                let x = normal(), v = pow(1 + c * x, 3)
                if v > 0, log(uniform()) < x * x / 2 + d - d * v + d * log(v) { return d * v }
            }
        }

        /// One BG/NBD customer observed for `age`: purchases at rate λ ~ Gamma(r, α) while
        /// alive, dropping out after each with probability p ~ Beta(a, b).
        /// The purchase days of one simulated customer aged `age` days at `end`: the first day,
        /// then its repeat purchases spread evenly up to its recency.
        mutating func purchaseDays(_ m: BetaGeometricNBD, age: Double, endingOn end: CalendarDate) -> [CalendarDate] {
            let summary = customer(m, age: age)
            let first = end.adding(days: -Int(summary.age))
            var days = [first]
            for step in 0..<Int(summary.frequency) {
                days.append(first.adding(days: max(1, Int(summary.recency) * (step + 1) / Int(summary.frequency))))
            }
            return days
        }

        mutating func customer(_ m: BetaGeometricNBD, age: Double) -> PurchaseSummary {
            let rate = gamma(m.r) / m.alpha
            let ga = gamma(m.a), p = ga / (ga + gamma(m.b))
            var time = 0.0, count = 0.0, last = 0.0
            while true {
                time += -log(uniform()) / rate
                if time > age { break }
                count += 1
                last = time
                if uniform() < p { break }
            }
            return PurchaseSummary(frequency: count, recency: last, age: age, monetary: 0)
        }
    }

    @Test func fitRecoversTheParametersOfASimulatedBook() throws {
        let truth = BetaGeometricNBD(r: 0.5, alpha: 20, a: 0.7, b: 3)
        var simulator = Simulator(state: 42)
        let summaries = (0..<20_000).map { _ in simulator.customer(truth, age: 100 + 300 * simulator.uniform()) }
        let fitted = try BetaGeometricNBD.fit(summaries)
        for (name, value, expected) in [("r", fitted.r, truth.r), ("alpha", fitted.alpha, truth.alpha), ("a", fitted.a, truth.a), ("b", fitted.b, truth.b)] {
            #expect(abs(value / expected - 1) < 0.15, "\(name) = \(value), simulated with \(expected)")
        }
        // The fit is a maximum: nudging any parameter lowers the likelihood.
        let best = fitted.meanLogLikelihood(summaries)
        for nudge in [(1.01, 1.0, 1.0, 1.0), (1.0, 0.99, 1.0, 1.0), (1.0, 1.0, 1.01, 1.0), (1.0, 1.0, 1.0, 0.99)] {
            let other = BetaGeometricNBD(r: fitted.r * nudge.0, alpha: fitted.alpha * nudge.1, a: fitted.a * nudge.2, b: fitted.b * nudge.3)
            #expect(other.meanLogLikelihood(summaries) < best)
        }
    }

    @Test func aBookWithoutRepeatBuyersIsTooSmall() {
        let summaries = (0..<50).map { PurchaseSummary(frequency: $0 < 9 ? 1 : 0, recency: $0 < 9 ? 5 : 0, age: 30, monetary: $0 < 9 ? 10 : 0) }
        let error = #expect(throws: CustomerValueError.self) { try BetaGeometricNBD.fit(summaries) }
        #expect(error?.code == .tooFewRepeatCustomers(found: 9, needed: 10, customers: 50))
        #expect(error?.description.contains("9 of its 50 customers") == true)
        #expect(error?.description.contains("at least 10") == true)
    }

    /// Every purchase the same amount (as in the demo book): Gamma-Gamma has no spread to
    /// estimate. The table still comes out, with the purchase model's figures and means for
    /// spend, and says why.
    @Test func aBookWithUniformSpendFallsBackToMeanSpend() throws {
        var simulator = Simulator(state: 7)
        let truth = BetaGeometricNBD(r: 0.6, alpha: 25, a: 0.8, b: 2.5)
        let start = CalendarDate("2024-01-01")!, end = CalendarDate("2025-12-31")!
        let histories = (0..<400).map { index in
            let days = simulator.purchaseDays(truth, age: 300 + 300 * simulator.uniform(), endingOn: end)
            return CustomerValueTable.History(
                id: "c\(index)", name: "Customer \(index)", purchases: days.map { .init(on: max($0, start), amount: Money(cents: 10_000)) })
        }
        let table = try CustomerValueTable(histories: histories, observationEnd: end)
        let failure = try #require(table.spendFitFailure, "Gamma-Gamma cannot fit identical amounts")
        #expect(table.spendModel == nil && table.spendModelName == "customer-mean")
        #expect(!failure.description.isEmpty)
        #expect(table.rows.count == 400)
        for row in table.rows {
            #expect(abs(row.expectedSpend - 100) < 1e-9, "every purchase was 100.00: \(row)")
            #expect(abs(row.expectedValue - row.expectedSpend * row.expectedPurchases) < 1e-6)
        }
        #expect(table.rows.contains { $0.summary.frequency == 0 } && table.rows.contains { $0.summary.frequency > 0 })
        let parameters = Dictionary(uniqueKeysWithValues: table.parameterValues.map { ($0.name, $0.value) })
        #expect(parameters["p"]! == nil && parameters["q"]! == nil && parameters["v"]! == nil)
        #expect(parameters["r"]! != nil && parameters["alpha"]! != nil)
    }

    /// The models a table keeps give every customer the table's own row (what `cx show` computes
    /// from kept models), with Gamma-Gamma and with the mean-spend fallback, discounted or not.
    @Test(arguments: [(spread: true, discount: 0.0), (spread: false, discount: 0.0), (spread: true, discount: 0.01)])
    func keptModelsGiveEachCustomerTheTablesRow(spread: Bool, discount: Double) throws {
        var simulator = Simulator(state: 11)
        let truth = BetaGeometricNBD(r: 0.6, alpha: 25, a: 0.8, b: 2.5)
        let end = CalendarDate("2025-12-31")!
        let histories = (0..<300).map { index in
            let days = simulator.purchaseDays(truth, age: 200 + 300 * simulator.uniform(), endingOn: end)
            // Spread: each customer spends around a mean of their own, which varies across the book.
            let mean = 20 + 200 * simulator.uniform() * simulator.uniform()
            let amounts = days.map { _ in spread ? Int64(100 * mean * (0.5 + simulator.uniform())) : 10_000 }
            return CustomerValueTable.History(
                id: "c\(index)", name: "Customer \(index)", purchases: zip(days, amounts).map { .init(on: $0, amount: Money(cents: $1)) })
        }
        let table = try CustomerValueTable(histories: histories, observationEnd: end, horizon: .twelveMonths, monthlyDiscount: discount)
        #expect((table.spendModel == nil) == !spread)
        #expect(table.models.fittedAsOf == end && table.models.customersFitted == 300)
        let byID = Dictionary(uniqueKeysWithValues: histories.map { ($0.id, $0) })
        for row in table.rows {
            let kept = try #require(table.models.row(of: byID[row.id]!, observationEnd: end, monthlyDiscount: discount))
            #expect(kept.summary == row.summary && kept.probabilityAlive == row.probabilityAlive)
            #expect(kept.expectedPurchases == row.expectedPurchases && kept.expectedSpend == row.expectedSpend)
            #expect(kept.expectedValue == row.expectedValue)
        }
        // Before a customer's first purchase there is nothing to project.
        #expect(table.models.row(of: histories[0], observationEnd: CalendarDate("1990-01-01")!) == nil)
    }

    @Test func meanRepeatSpendWeighsEachRepeatDay() {
        let summaries = [
            PurchaseSummary(frequency: 1, recency: 5, age: 30, monetary: 10),
            PurchaseSummary(frequency: 3, recency: 9, age: 30, monetary: 30),
            PurchaseSummary(frequency: 0, recency: 0, age: 30, monetary: 0),
        ]
        #expect(CustomerValueTable.meanRepeatSpend(summaries) == 25)  // (10 + 90) / 4 days
        #expect(CustomerValueTable.meanRepeatSpend([]) == 0)
    }
}
