import ArgumentParser

/// `cx-bench`: measurements of the model, the server and the client cache. Build with
/// `-c release`; the numbers are recorded in docs/benchmarks.md.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cx-bench",
        abstract: "Benchmarks for cx (run with `swift run -c release cx-bench <mode>`).",
        subcommands: [MergeBenchmark.self, StateCodingBenchmark.self, RecordIDBenchmark.self, DuplicatesBenchmark.self, ServerBenchmark.self, ConcurrentBenchmark.self, PushPathBenchmark.self, CacheBenchmarkCommand.self, BookLoader.self]
    )
}
