import CXSampleData

/// SplitMix64: a small, fast, seedable generator. Every random choice of the suite comes from one
/// of these, derived from the `--seed`, so a failing run reproduces with the same seed (up to
/// the timing of the processes it kills).
typealias SeededGenerator = SeededRandomGenerator

extension SeededRandomGenerator {
    /// A generator for a sub-stream (a run, the proxy), made from the suite's seed and a label,
    /// so each stream is reproducible on its own whatever the others draw.
    static func derive(_ seed: UInt64, _ label: UInt64) -> SeededGenerator {
        var mixer = SeededGenerator(seed: seed ^ (label &* 0xD1B5_4A32_D192_ED03))
        return SeededGenerator(seed: mixer.next())
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < p
    }

    /// A uniform integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &self)
    }

    /// A uniformly chosen element; nil for an empty collection.
    mutating func pick<C: Collection>(_ items: C) -> C.Element? where C.Index == Int {
        items.isEmpty ? nil : items[items.startIndex + int(0...(items.count - 1))]
    }

    /// An index chosen with the given non-negative weights.
    mutating func weighted(_ weights: [Int]) -> Int {
        let total = weights.reduce(0, +)
        var roll = int(0...max(0, total - 1))
        for (index, weight) in weights.enumerated() {
            if roll < weight { return index }
            roll -= weight
        }
        return weights.count - 1
    }
}
