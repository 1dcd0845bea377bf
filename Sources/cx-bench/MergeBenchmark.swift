import ArgumentParser
import CXSampleData
import CXModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `cx-bench merge`: record merges per second on realistic diverged customer states.
struct MergeBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merges N pairs of diverged customer states (≈15 fields, 2–4 replicas, some conflicts)."
    )

    @Option(help: "Number of state pairs.")
    var pairs = 100_000

    @Option(help: "Fraction of pairs with a same-field conflict.")
    var conflictRate = 0.2

    @Option(help: "Timed repetitions; the best is reported.")
    var rounds = 3

    func run() throws {
        var rng = SeededRandomGenerator(seed: 42)
        let states = (0..<pairs).map { SampleCustomers.divergedPair(index: $0, conflictRate: conflictRate, using: &rng) }
        let sample = states[0].0.merging(states[0].1)
        print("pairs: \(pairs), fields per state: \(sample.fields.count), replicas in merged clock: \(sample.clock.entries.count)")

        var best = Double.infinity
        var conflicts = 0
        for _ in 0..<rounds {
            conflicts = 0
            let start = ContinuousClock.now
            for (left, right) in states {
                if left.merging(right).hasConflicts { conflicts += 1 }
            }
            best = min(best, (ContinuousClock.now - start).seconds)
        }
        print("merge: \(Int(Double(pairs) / best)) merges/s (best of \(rounds), \(conflicts) merged states with conflicts)")

        let merged = states.map { $0.0.merging($0.1) }
        var start = ContinuousClock.now
        let encoded = merged.map { $0.jsonBytes() }
        let encodeSeconds = (ContinuousClock.now - start).seconds
        let averageBytes = encoded.reduce(0) { $0 + $1.count } / encoded.count
        start = ContinuousClock.now
        for bytes in encoded { _ = try RecordState(jsonBytes: bytes) }
        let decodeSeconds = (ContinuousClock.now - start).seconds
        print("encode: \(Int(Double(pairs) / encodeSeconds)) states/s, decode+validate: \(Int(Double(pairs) / decodeSeconds)) states/s (average \(averageBytes) bytes)")
    }
}

extension Duration {
    /// The duration in seconds as a floating-point number.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
