import ArgumentParser
import CXClient
import CXModel
import CXSampleData
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
        let started = Date()
        let (customerStates, activityStates) = try Self.book(customers: customers, activitiesPerCustomer: activitiesPerCustomer)
        let generated = Date().timeIntervalSince(started) * 1000
        print(try CacheBenchmark.run(home: directory, customers: customerStates, activities: activityStates, generated: generated))
        print("cache left in \(directory) (remove it when done)")
    }

    /// `customers` sample customers with `activitiesPerCustomer` purchases each, seeded.
    static func book(customers: Int, activitiesPerCustomer: Int) throws -> ([RecordState], [RecordState]) {
        var rng = SeededRandomGenerator(seed: 42)
        let base = Timestamp(millisecondsSinceEpoch: 1_790_000_000_000)
        let author = Author(replica: CacheBenchmark.replica, user: "bench", at: base)
        var customerStates: [RecordState] = [], activityStates: [RecordState] = []
        customerStates.reserveCapacity(customers)
        activityStates.reserveCapacity(customers * activitiesPerCustomer)
        for index in 0..<customers {
            let state = SampleCustomers.customer(index: index, replica: CacheBenchmark.replica, at: base, using: &rng)
            customerStates.append(state)
            for number in 0..<activitiesPerCustomer {
                let on = CalendarDate(year: 2025, month: 1, day: 1)!.adding(days: (index + number * 37) % 700)
                let amount = "\(50 + (index * 7 + number * 13) % 900).\(10 + number % 80)"
                let fields: [String: String?] = [
                    "customer_id": state.id, "type": "purchase", "on": on.description, "amount": amount,
                    "margin": "0.1\(number % 10)", "due_on": on.adding(days: 30).description,
                    "paid_on": number % 4 == 0 ? nil : on.adding(days: 20).description,
                ]
                activityStates.append(try RecordState.new(kind: .activity, id: RecordID.random(using: &rng), fields: fields, by: author))
            }
        }
        return (customerStates, activityStates)
    }
}
