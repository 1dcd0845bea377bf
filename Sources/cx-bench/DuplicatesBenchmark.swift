import ArgumentParser
import CXModel
import CXSampleData
import Foundation

/// `cx-bench duplicates`: how long `cx duplicates` takes to find likely duplicates in a book
/// (``DuplicateFinder``), on generated customers with varied names, 200 cities and a share of
/// planted duplicates (same email, a reformatted phone, a respelled name).
struct DuplicatesBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplicates",
        abstract: "Finds likely duplicates among N generated customers (varied names, 200 cities, 1% planted duplicates)."
    )

    @Option(help: "Number of customers.")
    var customers = 100_000

    @Option(help: "Timed repetitions; the best is reported.")
    var rounds = 3

    static let syllables = [
        "ka", "lo", "mer", "tin", "ber", "son", "ra", "vel", "dor", "an", "is", "ko", "lu", "pa", "ri", "sto", "wen", "hal",
        "gre", "mo", "nor", "ul", "fa", "zen", "bri", "ost", "ca", "del", "fi", "gar",
    ]
    static let suffixes = ["GmbH", "Ltd", "SA", "KG", "& Co", "Inc.", "AG", "", "", ""]

    static func word(_ rng: inout SeededRandomGenerator) -> String {
        let count = Int.random(in: 2...3, using: &rng)
        let text = (0..<count).map { _ in syllables.randomElement(using: &rng)! }.joined()
        return text.prefix(1).uppercased() + text.dropFirst()
    }

    func run() throws {
        var rng = SeededRandomGenerator(seed: 7)
        let cities = (0..<200).map { _ in Self.word(&rng) }
        var book: [DuplicateFinder.Candidate] = []
        book.reserveCapacity(customers)
        for index in 0..<customers {
            let name = "\(Self.word(&rng)) \(Self.word(&rng)) \(Self.suffixes.randomElement(using: &rng)!)"
            book.append(
                .init(
                    id: RecordID.random(using: &rng), name: name, email: "buyer\(index)@firm\(index).example",
                    phone: "+44 20 \(7000_0000 + index)", city: cities.randomElement(using: &rng)!))
        }
        // 1% planted duplicates: a respelled name in the same city, the email in capitals, or
        // the phone written nationally.
        for index in stride(from: 0, to: customers, by: 100) {
            var twin = book[index]
            twin.id = RecordID.random(using: &rng)
            switch index / 100 % 3 {
            case 0: twin.name = twin.name.uppercased() + "."; twin.email = nil; twin.phone = nil
            case 1: twin.email = twin.email?.uppercased(); twin.phone = nil; twin.city = nil
            default: twin.phone = "020 \(7000_0000 + index)"; twin.email = nil; twin.city = nil
            }
            book.append(twin)
        }
        print("customers: \(book.count) (\(customers / 100) planted duplicates), cities: \(cities.count)")
        var best = Double.infinity
        var found = 0
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            found = DuplicateFinder.pairs(book).count
            best = min(best, (ContinuousClock.now - start).seconds)
        }
        print("duplicates: \(found) pairs in \(String(format: "%.2f", best)) s (best of \(rounds))")
    }
}
