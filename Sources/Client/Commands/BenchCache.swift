import ArgumentParser

extension CX {
    /// Hidden: generates a large cache in --home and times cache operations in process.
    struct BenchCache: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-cache",
            abstract: "Generate a large cache and time show/add/list (for benchmarks).",
            shouldDisplay: false)

        @OptionGroup var global: GlobalOptions
        @Option var customers = 100_000
        @Option var activitiesPerCustomer = 5

        func run() async throws {
            try await runCommand(global) { context in
                let home = context.paths.dataDirectory
                let report = try CacheBenchmark.run(home: home, customers: customers, activitiesPerCustomer: activitiesPerCustomer)
                context.terminal.line(report)
            }
        }
    }
}
