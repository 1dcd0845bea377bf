#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee, 2005, "RFM and CLV"): a
/// customer's purchase values are Gamma(p, ν) around their own mean, and ν ~ Gamma(q, v) across
/// customers. Fitted by maximum likelihood on the customers with repeat purchases, as
/// `lifetimes`' `GammaGammaFitter` is (no penalizer), assuming spend and frequency independent.
public struct GammaGammaSpend: Hashable, Sendable {
    /// Shape of the per-purchase spend.
    public var p: Double
    /// Shape of the spend-scale distribution across customers.
    public var q: Double
    /// Scale of the spend-scale distribution, in money.
    public var v: Double

    /// A model with given parameters (all > 0).
    public init(p: Double, q: Double, v: Double) {
        self.p = p
        self.q = q
        self.v = v
    }

    /// The summaries the model is fitted on: repeat purchases with a positive mean.
    static func fitted(_ s: PurchaseSummary) -> Bool { s.frequency > 0 && s.monetary > 0 }

    /// The maximum-likelihood parameters for the customers of `summaries` with repeat
    /// purchases (the others carry no spend information and are left out).
    ///
    /// Nelder–Mead with restarts over the log-parameters, from p = q = v = 1.
    /// - Throws: ``CustomerValueError`` when fewer than
    ///   ``BetaGeometricNBD/minimumRepeatCustomers`` customers have a repeat purchase, the
    ///   optimisation does not converge, or q ≤ 1 (the population's mean spend is then infinite).
    public static func fit(_ summaries: [PurchaseSummary]) throws(CustomerValueError) -> GammaGammaSpend {
        let used = summaries.filter(fitted)
        let needed = BetaGeometricNBD.minimumRepeatCustomers
        guard used.count >= needed else {
            throw CustomerValueError(.tooFewRepeatCustomers(found: used.count, needed: needed, customers: summaries.count))
        }
        let data = LikelihoodData(used)
        let result = NelderMead().minimize({ NelderMead.withinBounds($0) ? -data.meanLogLikelihood(logParameters: $0) : .infinity }, from: [0, 0, 0])
        let model = GammaGammaSpend(p: exp(result.point[0]), q: exp(result.point[1]), v: exp(result.point[2]))
        guard result.converged, [model.p, model.q, model.v].allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw CustomerValueError(.didNotConverge(model: "Gamma-Gamma"))
        }
        guard model.q > 1 else { throw CustomerValueError(.spendUnbounded(q: model.q)) }
        return model
    }

    /// The mean log-likelihood of the summaries with repeat purchases (`lifetimes`' negated
    /// `_negative_log_likelihood`).
    public func meanLogLikelihood(_ summaries: [PurchaseSummary]) -> Double {
        LikelihoodData(summaries.filter(Self.fitted)).meanLogLikelihood(logParameters: [log(p), log(q), log(v)])
    }

    /// The population's mean spend per purchase, v·p/(q−1).
    public var populationMeanSpend: Double { v * p / (q - 1) }

    /// The expected spend per future purchase given the history: a weighted average of the
    /// population mean and the customer's own mean, the weight p·x/(p·x+q−1) growing with their
    /// repeat purchases (`lifetimes`' `conditional_expected_average_profit`).
    public func expectedAverageSpend(_ s: PurchaseSummary) -> Double {
        let weight = p * s.frequency / (p * s.frequency + q - 1)
        return (1 - weight) * populationMeanSpend + weight * s.monetary
    }

    /// The summaries grouped for fast evaluation: the Γ terms depend on the frequency only.
    private struct LikelihoodData {
        var frequencies: [(x: Double, count: Double)]
        var customers: [(x: Double, logX: Double, monetary: Double, logMonetary: Double)]

        init(_ summaries: [PurchaseSummary]) {
            var counts: [Double: Double] = [:]
            for s in summaries { counts[s.frequency, default: 0] += 1 }
            frequencies = counts.map { (x: $0.key, count: $0.value) }.sorted { $0.x < $1.x }  // a fixed summation order: the same fit in every process
            customers = summaries.map { (x: $0.frequency, logX: log($0.frequency), monetary: $0.monetary, logMonetary: log($0.monetary)) }
        }

        func meanLogLikelihood(logParameters l: [Double]) -> Double {
            let p = exp(l[0]), q = exp(l[1]), v = exp(l[2])
            guard !customers.isEmpty else { return 0 }
            var total = 0.0
            let lgQ = SpecialFunctions.logGamma(q)
            for (x, count) in frequencies {
                total += count * (SpecialFunctions.logGamma(p * x + q) - SpecialFunctions.logGamma(p * x) - lgQ + q * l[2])
            }
            for c in customers {
                total += (p * c.x - 1) * c.logMonetary + p * c.x * c.logX - (p * c.x + q) * log(c.x * c.monetary + v)
            }
            return total / Double(customers.count)
        }
    }
}
