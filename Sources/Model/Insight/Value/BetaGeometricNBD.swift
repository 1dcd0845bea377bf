#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The BG/NBD model of repeat purchases (Fader, Hardie & Lee, 2005, "Counting your customers
/// the easy way"): while alive, a customer buys at a Poisson rate λ ~ Gamma(r, α); after each
/// purchase they drop out with probability p ~ Beta(a, b). Fitted by maximum likelihood on the
/// book's ``PurchaseSummary``s, as `lifetimes`' `BetaGeoFitter` does (no penalizer).
public struct BetaGeometricNBD: Hashable, Sendable {
    /// Shape of the purchase-rate distribution.
    public var r: Double
    /// Scale of the purchase-rate distribution, in the summaries' time unit.
    public var alpha: Double
    /// First shape of the drop-out probability distribution.
    public var a: Double
    /// Second shape of the drop-out probability distribution.
    public var b: Double

    /// A model with given parameters (all > 0).
    public init(r: Double, alpha: Double, a: Double, b: Double) {
        self.r = r
        self.alpha = alpha
        self.a = a
        self.b = b
    }

    /// The fewest customers with a repeat purchase a fit needs: below it the likelihood is too
    /// flat for the drop-out parameters to mean anything.
    public static let minimumRepeatCustomers = 10

    /// The maximum-likelihood parameters for `summaries` (one per customer).
    ///
    /// Times are rescaled so the oldest customer's age is 10 before fitting (as `lifetimes`
    /// does, which keeps the log-parameters of similar size), then Nelder–Mead with restarts
    /// minimises the mean negative log-likelihood over the log-parameters from r = α = a = b = 1.
    /// - Throws: ``CustomerValueError`` when fewer than ``minimumRepeatCustomers`` customers
    ///   have a repeat purchase, or the optimisation does not converge.
    public static func fit(_ summaries: [PurchaseSummary]) throws(CustomerValueError) -> BetaGeometricNBD {
        let repeaters = summaries.filter { $0.frequency > 0 }.count
        guard repeaters >= minimumRepeatCustomers else {
            throw CustomerValueError(.tooFewRepeatCustomers(found: repeaters, needed: minimumRepeatCustomers, customers: summaries.count))
        }
        let maxAge = summaries.map(\.age).max() ?? 0
        let scale = maxAge > 0 ? 10 / maxAge : 1
        let data = LikelihoodData(summaries, timeScale: scale)
        let result = NelderMead().minimize({ NelderMead.withinBounds($0) ? -data.meanLogLikelihood(logParameters: $0) : .infinity }, from: [0, 0, 0, 0])
        let p = result.point.map { exp($0) }
        let model = BetaGeometricNBD(r: p[0], alpha: p[1] / scale, a: p[2], b: p[3])
        guard result.converged, [model.r, model.alpha, model.a, model.b].allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw CustomerValueError(.didNotConverge(model: "BG/NBD"))
        }
        return model
    }

    /// The log-likelihood of one customer's summary (as `lifetimes` computes it).
    public func logLikelihood(_ s: PurchaseSummary) -> Double {
        LikelihoodData([s], timeScale: 1).meanLogLikelihood(logParameters: [log(r), log(alpha), log(a), log(b)])
    }

    /// The mean log-likelihood of the summaries (`lifetimes`' negated `_negative_log_likelihood`).
    public func meanLogLikelihood(_ summaries: [PurchaseSummary]) -> Double {
        LikelihoodData(summaries, timeScale: 1).meanLogLikelihood(logParameters: [log(r), log(alpha), log(a), log(b)])
    }

    /// The probability that a customer with this history is still alive at the end of it.
    public func probabilityAlive(_ s: PurchaseSummary) -> Double {
        guard s.frequency > 0 else { return 1 }
        let logOdds = (r + s.frequency) * log((alpha + s.age) / (alpha + s.recency)) + log(a / (b + s.frequency - 1))
        return 1 / (1 + exp(logOdds))
    }

    /// The expected number of repeat purchases in the next `t` time units, given the history
    /// (`lifetimes`' `conditional_expected_number_of_purchases_up_to_time`).
    ///
    /// E[Y(t) | x, tₓ, T] = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]
    ///                      / (1 + [x > 0] a/(b+x−1) · ((α+T)/(α+tₓ))^(r+x)).
    /// The closed form holds for a < 1 as well (both brackets change sign).
    public func expectedPurchases(in t: Double, given s: PurchaseSummary) -> Double {
        guard t > 0 else { return 0 }
        let x = s.frequency
        let z = t / (alpha + s.age + t)
        guard let logHyper = SpecialFunctions.logHypergeometric2F1(r + x, b + x, a + b + x - 1, z) else { return .nan }
        let first = (a + b + x - 1) / (a - 1)
        let second = -expm1(logHyper + (r + x) * log((alpha + s.age) / (alpha + s.age + t)))
        let denominator = 1 + (x > 0 ? a / (b + x - 1) * pow((alpha + s.age) / (alpha + s.recency), r + x) : 0)
        return first * second / denominator
    }

    /// The summaries grouped for fast evaluation: the Γ terms depend on the frequency only.
    private struct LikelihoodData {
        /// Distinct frequencies and how many customers have each.
        var frequencies: [(x: Double, count: Double)]
        /// Per customer: frequency, recency and age (rescaled).
        var customers: [(x: Double, recency: Double, age: Double)]

        init(_ summaries: [PurchaseSummary], timeScale: Double) {
            var counts: [Double: Double] = [:]
            for s in summaries { counts[s.frequency, default: 0] += 1 }
            frequencies = counts.map { (x: $0.key, count: $0.value) }.sorted { $0.x < $1.x }  // a fixed summation order: the same fit in every process
            customers = summaries.map { (x: $0.frequency, recency: $0.recency * timeScale, age: $0.age * timeScale) }
        }

        func meanLogLikelihood(logParameters p: [Double]) -> Double {
            let r = exp(p[0]), alpha = exp(p[1]), a = exp(p[2]), b = exp(p[3])
            guard !customers.isEmpty else { return 0 }
            var total = 0.0
            let lgR = SpecialFunctions.logGamma(r), lgAB = SpecialFunctions.logGamma(a + b), lgB = SpecialFunctions.logGamma(b)
            let logAlpha = log(alpha), logA = log(a)
            for (x, count) in frequencies {
                let a1 = SpecialFunctions.logGamma(r + x) - lgR + r * logAlpha
                let a2 = lgAB + SpecialFunctions.logGamma(b + x) - lgB - SpecialFunctions.logGamma(a + b + x)
                total += count * (a1 + a2)
            }
            for c in customers {
                let a3 = -(r + c.x) * log(alpha + c.age)
                if c.x > 0 {
                    let a4 = logA - log(b + c.x - 1) - (r + c.x) * log(alpha + c.recency)
                    let m = max(a3, a4)
                    total += m + log(exp(a3 - m) + exp(a4 - m))
                } else {
                    total += a3
                }
            }
            return total / Double(customers.count)
        }
    }
}
