/// The Nelder–Mead downhill simplex method, for the few-parameter likelihoods of the
/// customer-value models (fitted on log-parameters, as `lifetimes` does, so every parameter
/// stays positive without constraints).
///
/// A run stops when the simplex has collapsed (every vertex within `pointTolerance` of the best
/// in every coordinate, and their values within `valueTolerance`); the minimiser then restarts
/// from the best point with a fresh simplex until a restart no longer improves the value, which
/// guards against the premature collapse plain Nelder–Mead is known for.
struct NelderMead: Sendable {
    /// The largest coordinate spread of a converged simplex.
    var pointTolerance = 1e-8
    /// The largest value spread of a converged simplex.
    var valueTolerance = 1e-12
    /// The most function evaluations in all (runs and restarts together).
    var maxEvaluations = 40_000
    /// The first simplex's edge length.
    var initialStep = 0.5

    /// The largest log-parameter magnitude the models' fits accept: e^±15 (≈ 3.3 million).
    ///
    /// Where the data show no heterogeneity along some dimension — every customer spending alike,
    /// say — the likelihood keeps rising as a shape parameter and its scale grow together, and an
    /// unbounded search would walk off to infinity (where `lifetimes` reports a convergence error).
    /// Bounded, the fit settles at the boundary, which is the model's limit there (Gamma-Gamma
    /// with q → ∞: every customer's expected spend is the book's mean).
    static let logParameterBound = 15.0

    /// Whether every coordinate lies within ±``logParameterBound``.
    static func withinBounds(_ x: [Double]) -> Bool {
        x.allSatisfy { abs($0) <= logParameterBound }
    }

    /// The result of a minimisation.
    struct Result: Sendable {
        /// The best point found.
        var point: [Double]
        /// The function's value there.
        var value: Double
        /// Whether the simplex converged (within `maxEvaluations`).
        var converged: Bool
        /// Function evaluations used.
        var evaluations: Int
    }

    /// Minimises `f` from `start`. Non-finite values count as +∞.
    func minimize(_ f: ([Double]) -> Double, from start: [Double]) -> Result {
        func value(_ x: [Double]) -> Double {
            let y = f(x)
            return y.isFinite ? y : .infinity
        }
        var evaluations = 1
        var best = start, bestValue = value(start)
        var step = initialStep
        var converged = false
        var previousValue = bestValue
        while evaluations < maxEvaluations {
            let run = simplexRun(value, from: best, step: step, budget: maxEvaluations - evaluations)
            evaluations += run.evaluations
            let improved = run.value < bestValue - valueTolerance
            if run.value <= bestValue {
                best = run.point
                bestValue = run.value
            }
            if run.converged, !improved {
                converged = true
                break
            }
            // Out of budget on a ridge that no longer pays: the value has settled even if the
            // point still drifts along a flat direction (e.g. towards a bound).
            if evaluations >= maxEvaluations, abs(previousValue - bestValue) <= 1e-9 * max(1, abs(bestValue)) {
                converged = true
                break
            }
            previousValue = bestValue
            step = max(step / 2, 1e-3)
        }
        return Result(point: best, value: bestValue, converged: converged, evaluations: evaluations)
    }

    /// One run from a fresh simplex around `start`.
    private func simplexRun(
        _ objective: ([Double]) -> Double, from start: [Double], step: Double, budget: Int
    ) -> (point: [Double], value: Double, converged: Bool, evaluations: Int) {
        var evaluations = 0
        func f(_ x: [Double]) -> Double {
            evaluations += 1
            return objective(x)
        }
        let n = start.count
        var points = [start]
        for i in 0..<n {
            var p = start
            p[i] += step
            points.append(p)
        }
        var values = points.map(f)
        func combine(_ a: [Double], _ b: [Double], _ t: Double) -> [Double] {
            // a + t (b − a)
            var r = a
            for i in 0..<n { r[i] += t * (b[i] - a[i]) }
            return r
        }
        while evaluations < budget {
            let order = values.indices.sorted { values[$0] < values[$1] }
            points = order.map { points[$0] }
            values = order.map { values[$0] }
            let spread = (1...n).map { j in (0..<n).map { abs(points[j][$0] - points[0][$0]) }.max()! }.max()!
            if spread <= pointTolerance, values[n] - values[0] <= valueTolerance {
                return (points[0], values[0], true, evaluations)
            }
            var centroid = [Double](repeating: 0, count: n)
            for j in 0..<n { for i in 0..<n { centroid[i] += points[j][i] / Double(n) } }
            let reflected = combine(centroid, points[n], -1)
            let fr = f(reflected)
            if fr < values[0] {
                let expanded = combine(centroid, points[n], -2)
                let fe = f(expanded)
                if fe < fr {
                    points[n] = expanded
                    values[n] = fe
                } else {
                    points[n] = reflected
                    values[n] = fr
                }
            } else if fr < values[n - 1] {
                points[n] = reflected
                values[n] = fr
            } else {
                let outside = fr < values[n]
                let contracted = outside ? combine(centroid, reflected, 0.5) : combine(centroid, points[n], 0.5)
                let fc = f(contracted)
                if fc < (outside ? fr : values[n]) {
                    points[n] = contracted
                    values[n] = fc
                } else {
                    for j in 1...n {
                        points[j] = combine(points[0], points[j], 0.5)
                        values[j] = f(points[j])
                    }
                }
            }
        }
        let bestIndex = values.indices.min { values[$0] < values[$1] }!
        return (points[bestIndex], values[bestIndex], false, evaluations)
    }
}
