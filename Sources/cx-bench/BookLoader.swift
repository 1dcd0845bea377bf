import ArgumentParser
import AsyncHTTPClient
import CXModel
import Foundation
import NIOCore
import CXSampleData

/// `cx-bench book`: pushes the deterministic sample book (customers, purchases, referrals,
/// touchpoints, deletions, conflicts) to a running server, for demos, SQL exploration and
/// benchmarks on realistic data.
struct BookLoader: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "book",
        abstract: "Load the generated sample book into a running cx-server.",
        discussion: "Example: cx-bench book --server http://127.0.0.1:8080 --token cx_… --customers 2000")

    @Option(help: "Server URL.")
    var server = "http://127.0.0.1:8080"

    @Option(help: "Bearer token (e.g. the admin token printed at first start).")
    var token: String

    @Option(help: "Customers to generate (about 10 activities each).")
    var customers = 2_000

    @Option(help: "Generator seed; the same seed gives the same book.")
    var seed: UInt64 = 2026

    @Flag(help: "Add refunds (credit notes) and zero-value orders (SampleBook.addingCreditNotes).")
    var creditNotes = false

    func run() async throws {
        let generated = SampleBook.generate(seed: seed, customers: customers)
        let states = creditNotes ? SampleBook.addingCreditNotes(to: generated) : generated
        let url = server.hasSuffix("/") ? server + "v1/sync" : server + "/v1/sync"
        let start = ContinuousClock.now
        for offset in stride(from: 0, to: states.count, by: 1_000) {
            var w = JSONWriter(capacity: 1_000 * 1_500)
            w.raw("{\"replica_id\":\"sample-book\",\"cursor\":null,\"limit\":1,\"changes\":[")
            for (index, state) in states[offset..<min(offset + 1_000, states.count)].enumerated() {
                if index > 0 { w.byte(UInt8(ascii: ",")) }
                state.encode(into: &w)
            }
            w.raw("]}")
            _ = try await ServerBenchmark.post(url, token: token, body: ByteBuffer(bytes: w.bytes))
        }
        let seconds = (ContinuousClock.now - start).seconds
        print("Loaded \(states.count) records (\(customers) customers) in \(String(format: "%.1f", seconds)) s.")
    }
}
