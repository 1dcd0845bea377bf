#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few special functions the customer-value models need, in `Double`.
enum SpecialFunctions {
    /// ln Γ(x) for x > 0.
    static func logGamma(_ x: Double) -> Double {
        lgamma(x)
    }

    /// ln ₂F₁(a, b; c; z), the Gauss hypergeometric function, for 0 ≤ z < 1 and c > 0, where
    /// the function is positive (as in the BG/NBD expectation).
    ///
    /// Both the power series Σ (a)ₖ(b)ₖ/((c)ₖ k!) zᵏ and Euler's transformation
    /// ₂F₁(a, b; c; z) = (1 − z)^(c−a−b) ₂F₁(c−a, c−b; c; z) converge for |z| < 1; their terms
    /// fall like k^(a+b−c−1) zᵏ and k^(c−a−b−1) zᵏ respectively, so the one with the smaller
    /// exponent is summed (and the power is taken in logarithms, so a large frequency cannot
    /// overflow). Summation stops when a term no longer changes the sum in the 16th digit.
    /// Returns `nil` when the series does not settle within `maxTerms` or the sum is not positive.
    static func logHypergeometric2F1(_ a: Double, _ b: Double, _ c: Double, _ z: Double, maxTerms: Int = 1_000_000) -> Double? {
        guard z >= 0, z < 1, c > 0 else { return nil }
        if z == 0 { return 0 }
        if a + b - c <= c - a - b {
            return logSeries(a, b, c, z, maxTerms: maxTerms)
        }
        guard let transformed = logSeries(c - a, c - b, c, z, maxTerms: maxTerms) else { return nil }
        return (c - a - b) * log1p(-z) + transformed
    }

    /// ln of the power series of ₂F₁ (see ``logHypergeometric2F1(_:_:_:_:maxTerms:)``).
    private static func logSeries(_ a: Double, _ b: Double, _ c: Double, _ z: Double, maxTerms: Int) -> Double? {
        var term = 1.0, sum = 1.0
        var k = 0.0
        var quiet = 0
        for _ in 0..<maxTerms {
            term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
            sum += term
            k += 1
            if term == 0 { break }
            // Past the largest term (k beyond the turning point) and negligible: stop after a
            // few such terms in a row, so a term that is momentarily tiny does not end early.
            if abs(term) <= abs(sum) * 1e-17 {
                quiet += 1
                if quiet >= 3 { break }
            } else {
                quiet = 0
            }
            if !sum.isFinite { return nil }
        }
        guard sum > 0, sum.isFinite, quiet >= 3 || term == 0 else { return nil }
        return log(sum)
    }
}
