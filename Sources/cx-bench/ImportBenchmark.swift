import ArgumentParser
import CXEmbeddedPostgres
import CXServer
import Foundation
import Logging

/// `cx-bench import`: an ERP load of N purchases (`cx-server import activities`) into a fresh
/// embedded PostgreSQL holding C customers, then the same file again (every row unchanged),
/// then a payment file for every purchase. Runs the real `cx-server import` command code
/// in-process (parsing, validation, lookups, states, writes, audit) and prints rows/s.
struct ImportBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "cx-server import throughput: N activity rows into a fresh database, then again (unchanged), then payments.")

    @Option(help: "Activity rows (purchases) to import.")
    var rows = 1_000_000

    @Option(help: "Customers the purchases belong to (imported first, by ref).")
    var customers = 10_000

    @Flag(help: "Keep the generated CSV files and the database directory.")
    var keep = false

    func run() async throws {
        let directory = try ServerBenchmark.makeTemporaryDirectory()
        let cluster = EmbeddedPostgres(dataDirectory: directory + "/db", durability: .full, logger: Logger(label: "cx.bench"))
        try cluster.start()
        defer {
            if keep { try? cluster.stop() } else { cluster.destroy(); try? FileManager.default.removeItem(atPath: directory) }
        }

        var text = "ref,name,email,territory,segment\n"
        let territories = ["north", "south", "east", "west", "central"]
        for index in 0..<customers {
            text += "C-\(index),Customer \(index),buyer\(index)@example.com,\(territories[index % territories.count]),smb\n"
        }
        let customerFile = directory + "/customers.csv"
        try Data(text.utf8).write(to: URL(fileURLWithPath: customerFile))

        var activities = [UInt8]()
        activities.reserveCapacity(rows * 70)
        activities += Array("ref,customer_ref,type,on,amount,margin,due_on\n".utf8)
        var payments = [UInt8]()
        payments += Array("ref,paid_on\n".utf8)
        for index in 0..<rows {
            let day = 1 + index % 28, month = 1 + (index / 28) % 12
            let date = "2026-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
            let due = "2026-\(month < 10 ? "0" : "")\(month)-28"
            activities += Array("INV-\(index),C-\(index % customers),purchase,\(date),\(100 + index % 900).\(index % 100 < 10 ? "0" : "")\(index % 100),0.\(10 + index % 20),\(due)\n".utf8)
            payments += Array("INV-\(index),\(due)\n".utf8)
        }
        let activityFile = directory + "/activities.csv"
        try Data(activities).write(to: URL(fileURLWithPath: activityFile))
        let paymentFile = directory + "/payments.csv"
        try Data(payments).write(to: URL(fileURLWithPath: paymentFile))
        print("customers: \(customers), activity rows: \(rows) (\(activities.count / 1_048_576) MiB), data in \(directory)")

        func timed(_ label: String, _ arguments: [String], count: Int) async throws {
            let start = ContinuousClock.now
            var command = try CXServerCommand.parseAsRoot(arguments + ["--database-url", cluster.connectionString])
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            let seconds = (ContinuousClock.now - start).seconds
            print("\(label): \(count) rows in \(String(format: "%.1f", seconds)) s = \(Int(Double(count) / seconds)) rows/s")
        }
        try await timed("customers (new)", ["import", "customers", customerFile], count: customers)
        try await timed("activities (new)", ["import", "activities", activityFile], count: rows)
        try await timed("activities (again, unchanged)", ["import", "activities", activityFile], count: rows)
        try await timed("payments (mark paid)", ["import", "payments", paymentFile], count: rows)
    }
}
