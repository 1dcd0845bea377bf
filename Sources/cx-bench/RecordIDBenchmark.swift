import ArgumentParser
import CXModel

/// `cx-bench ids`: record ids minted per second (every imported row and every `cx add` mints one).
struct RecordIDBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ids",
        abstract: "Mints N random record ids (version 4 UUIDs) and reports ids per second."
    )

    @Option(help: "Ids per round.")
    var count = 1_000_000

    @Option(help: "Timed repetitions; the best is reported.")
    var rounds = 3

    func run() throws {
        var best = Duration.seconds(1_000_000)
        var bytes = 0
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            for _ in 0..<count { bytes &+= RecordID.random().utf8.count }
            best = min(best, ContinuousClock.now - start)
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
        print("ids: \(count), best of \(rounds): \((seconds * 1000).rounded() / 1000) s, \(Int(Double(count) / seconds)) ids/s (\(bytes / rounds / count) characters each)")
    }
}
