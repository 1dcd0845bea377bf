import ArgumentParser
import CXSampleData
import CXModel

/// `cx-bench states`: encoding and decoding of record states, the work every sync does per
/// record (the server decodes each pushed state, the client each pulled one).
struct StateCodingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "states",
        abstract: "Encodes and decodes N customer states (as imported: one write; and merged from three replicas)."
    )

    @Option(help: "Number of states of each kind.")
    var count = 50_000

    @Option(help: "Timed repetitions; the best is reported.")
    var rounds = 5

    func run() throws {
        var rng = SeededRandomGenerator(seed: 7)
        let at = Timestamp(millisecondsSinceEpoch: 1_790_000_000_000)
        let imported = (0..<count).map { SampleCustomers.customer(index: $0, replica: "anna-laptop", at: at, using: &rng) }
        let merged = (0..<count).map { index in
            let (left, right) = SampleCustomers.divergedPair(index: index, conflictRate: 0.2, using: &rng)
            return left.merging(right)
        }
        for (name, states) in [("imported", imported), ("merged", merged)] {
            var encoded: [[UInt8]] = []
            let encodeSeconds = best { encoded = states.map { $0.jsonBytes() } }
            let bytes = encoded.reduce(0) { $0 + $1.count } / encoded.count
            print("\(name): \(bytes) B/state, encode \(microseconds(encodeSeconds)) µs/state")
            for (rulesName, rules) in [("stored", StateValueRules.stored), ("pushed", .pushed), ("current", .current)] {
                var failures = 0
                let seconds = best {
                    failures = 0
                    for bytes in encoded where (try? RecordState(jsonBytes: bytes, values: rules)) == nil { failures += 1 }
                }
                guard failures == 0 else { throw ValidationError("\(failures) \(name) states failed to decode as \(rulesName)") }
                print("  decode as \(rulesName): \(microseconds(seconds)) µs/state (\(Int(Double(count) / seconds)) states/s)")
            }
        }
    }

    private func best(_ work: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            work()
            best = min(best, (ContinuousClock.now - start).seconds)
        }
        return best
    }

    private func microseconds(_ seconds: Double) -> String {
        String(Double(Int(seconds / Double(count) * 1e7)) / 10)
    }
}
