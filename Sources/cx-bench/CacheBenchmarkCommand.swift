import ArgumentParser
import CXClient
import Foundation

/// `cx-bench cache`: builds a field-sales-scale local cache (100,000 customers, 500,000
/// activities by default) and times `show`, `add` and `list --territory` in process.
struct CacheBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Local cache: time show / add / list on a large generated cache.",
        discussion: "Whole-process timings: run the `cx` binary against the same --home with hyperfine (see docs/benchmarks.md).")

    @Option(help: "Directory for the generated cache (default: a new temporary directory).")
    var home: String?

    @Option(help: "Customers to generate.")
    var customers = 100_000

    @Option(help: "Activities per customer.")
    var activitiesPerCustomer = 5

    func run() throws {
        let directory = home ?? NSTemporaryDirectory() + "cx-bench-cache-" + UUID().uuidString.prefix(8)
        print(try CacheBenchmark.run(home: directory, customers: customers, activitiesPerCustomer: activitiesPerCustomer))
        print("cache left in \(directory) (remove it when done)")
    }
}
