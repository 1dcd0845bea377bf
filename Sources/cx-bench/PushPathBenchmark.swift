import ArgumentParser
import CXModel
import CXSampleData
import CXServer

/// `cx-bench push-path`: the server's own CPU per push before PostgreSQL — reading the request
/// and its states, joining and checking them, encoding new records' rows and audit rows for
/// `COPY` — on one core, for the requests `cx-bench concurrent` sends (10 new customers each).
/// Under many clients the server shares two cores with PostgreSQL, so this work is throughput.
struct PushPathBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push-path",
        abstract: "The server's CPU per push before PostgreSQL: request reading and row encoding, on one core."
    )

    @Option(help: "Requests per round.")
    var requests = 4_000

    @Option(help: "New customers per request.")
    var recordsPerRequest = 10

    @Option(help: "Timed repetitions; the best is reported.")
    var rounds = 7

    func run() throws {
        var rng = SeededRandomGenerator(seed: 11)
        let at = Timestamp(millisecondsSinceEpoch: 1_790_000_000_000)
        let bodies: [[UInt8]] = (0..<requests).map { request in
            let replica = "laptop-\(request % 200)"
            let states = (0..<recordsPerRequest).map {
                SampleCustomers.customer(index: request * recordsPerRequest + $0, replica: replica, at: at, using: &rng)
            }
            // The body `cx-bench concurrent` sends without --pull.
            var w = JSONWriter(capacity: recordsPerRequest * 1_500)
            w.raw("{\"replica_id\":")
            w.string(replica)
            w.raw(",\"cursor\":null,\"limit\":1,\"compact_states\":true,\"changes\":[")
            w.rawJSON(ConcurrentBenchmark.encode(states))
            w.raw("]}")
            return w.bytes
        }
        var best = Double.infinity
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            var prepared = 0
            for body in bodies { prepared += try PushPathBenchmarking.prepare(body) }
            let elapsed = ContinuousClock.now - start
            guard prepared == requests * recordsPerRequest else {
                throw ValidationError("prepared \(prepared) records, expected \(requests * recordsPerRequest)")
            }
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        let bytes = bodies.reduce(0) { $0 + $1.count } / bodies.count
        print(String(format: "push path: %.1f µs per request of %d new customers (%d B), %.2f µs per record",
                     best / Double(requests) * 1e6, recordsPerRequest, bytes, best / Double(requests * recordsPerRequest) * 1e6))
    }
}
