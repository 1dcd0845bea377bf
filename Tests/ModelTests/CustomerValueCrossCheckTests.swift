import Foundation
import Testing

@testable import CXModel

/// The customer-value models against `lifetimes` (the Python reference of buy-till-you-die
/// models) on the CDNOW data in `Tests/Data/cdnow`: fitted parameters and every customer's
/// expectations agree within 1%. `scripts/lifetimes-reference` installs lifetimes into a venv
/// on first use (python3 with venv and PyPI needed); without them this test fails and says so.
@Suite(.serialized) struct CustomerValueCrossCheckTests {
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let data = package.appendingPathComponent("Tests/Data/cdnow")

    /// The most a figure may differ from lifetimes', relatively.
    static let tolerance = 0.01

    /// lifetimes' figures for one data set.
    struct Reference {
        var bgnbd: [String: Double]
        var gammaGamma: [String: Double]
        var customers: [String: [String: Double]]
    }

    /// Runs `scripts/lifetimes-reference` once for both data sets.
    static let reference: Result<[String: Reference], ReferenceError> = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [package.appendingPathComponent("scripts/lifetimes-reference").path]
        let output = Pipe()
        process.standardOutput = output
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("cx-lifetimes-\(getpid()).err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        do {
            process.standardError = try FileHandle(forWritingTo: errorFile)
            try process.run()
        } catch {
            return .failure(ReferenceError("cannot run scripts/lifetimes-reference: \(error)"))
        }
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errors = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            return .failure(
                ReferenceError(
                    "scripts/lifetimes-reference failed (exit \(process.terminationStatus)): it needs python3 with venv and pip "
                        + "(Debian: apt-get install python3-venv) and PyPI to install lifetimes\n\(errors)"))
        }
        guard let json = try? JSONSerialization.jsonObject(with: bytes) as? [String: [String: Any]] else {
            return .failure(ReferenceError("scripts/lifetimes-reference printed no JSON document\n\(errors)"))
        }
        var result: [String: Reference] = [:]
        for (name, set) in json {
            let customers = (set["customers"] as? [[String: Any]] ?? []).map { row in
                (row["id"] as? String ?? "", row.compactMapValues { $0 as? Double })
            }
            result[name] = Reference(
                bgnbd: set["bgnbd"] as? [String: Double] ?? [:], gammaGamma: set["gamma_gamma"] as? [String: Double] ?? [:],
                customers: Dictionary(customers, uniquingKeysWith: { a, _ in a }))
        }
        return .success(result)
    }()

    struct ReferenceError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func reference(_ name: String) throws -> Reference {
        let all = try reference.get()
        return try #require(all[name], "lifetimes-reference printed no \(name) set")
    }

    /// The largest relative difference of `pairs` (ours, lifetimes'), expected within tolerance;
    /// `floor` keeps near-zero values from inflating the ratio.
    @discardableResult
    static func compare(_ what: String, _ pairs: [(id: String, ours: Double, theirs: Double)], floor: Double = 1e-6) -> Double {
        var worst = (difference: 0.0, id: "", ours: 0.0, theirs: 0.0)
        for pair in pairs {
            let difference = abs(pair.ours - pair.theirs) / max(abs(pair.theirs), floor)
            if !(difference <= worst.difference) { worst = (difference, pair.id, pair.ours, pair.theirs) }
        }
        #expect(
            worst.difference <= tolerance,
            "\(what): customer \(worst.id) \(worst.ours) vs lifetimes \(worst.theirs) (\(worst.difference * 100)% off)")
        print("cross-check \(what): \(pairs.count) values, largest difference \(worst.difference * 100)% (customer \(worst.id))")
        return worst.difference
    }

    static func compareParameters(_ what: String, _ ours: [String: Double], _ theirs: [String: Double]) {
        #expect(Set(ours.keys) == Set(theirs.keys))
        compare(what, ours.keys.sorted().map { (id: $0, ours: ours[$0]!, theirs: theirs[$0] ?? .nan) })
    }

    /// The published weekly CDNOW summary: fits and 52-week predictions, CLV over 12 months of
    /// 4.345 weeks at 1% a month (lifetimes' `freq="W"`).
    @Test func cdnowWeeklySummary() throws {
        let reference = try Self.reference("summary")
        let text = try String(contentsOf: Self.data.appendingPathComponent("cdnow_customers_summary_with_transactions.csv"), encoding: .utf8)
        var summaries: [(id: String, summary: PurchaseSummary)] = []
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let fields = line.split(separator: ",").map(String.init)
            let values = try fields.dropFirst().map { try #require(Double($0), "\(line)") }
            summaries.append((fields[0], PurchaseSummary(frequency: values[0], recency: values[1], age: values[2], monetary: values[3])))
        }
        #expect(summaries.count == 2_357)
        let bg = try BetaGeometricNBD.fit(summaries.map(\.summary))
        let gg = try GammaGammaSpend.fit(summaries.map(\.summary))
        Self.compareParameters("weekly BG/NBD parameters", ["r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b], reference.bgnbd)
        Self.compareParameters("weekly Gamma-Gamma parameters", ["p": gg.p, "q": gg.q, "v": gg.v], reference.gammaGamma)
        let steps = (1...12).map { (end: 4.345 * Double($0), discountExponent: Double($0)) }
        try Self.comparePredictions("weekly", summaries, reference, bg: bg, gg: gg, horizon: 52, steps: steps)
    }

    /// CDNOW's transactions summarised in days at 1997-09-30 as `cx value` summarises a book,
    /// fitted by ``CustomerValueTable``; 365-day predictions, CLV over 12 months of 30 days at
    /// 1% a month (lifetimes' `freq="D"`).
    @Test func cdnowTransactionsInDays() throws {
        let reference = try Self.reference("transactions")
        let text = try String(contentsOf: Self.data.appendingPathComponent("CDNOW_sample.txt"), encoding: .utf8)
        var purchases: [String: [CustomerValueTable.DatedAmount]] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ").map(String.init)
            let day = fields[2]
            let on = try #require(
                CalendarDate(year: Int(day.prefix(4))!, month: Int(day.dropFirst(4).prefix(2))!, day: Int(day.suffix(2))!))
            let amount = try #require(Money(fields[4]), "\(line)")
            purchases[String(Int(fields[1])!), default: []].append(CustomerValueTable.DatedAmount(on: on, amount: amount))
        }
        let end = CalendarDate("1997-09-30")!
        let table = try CustomerValueTable(
            histories: purchases.map { CustomerValueTable.History(id: $0.key, name: "", purchases: $0.value) }, observationEnd: end,
            horizon: ValueHorizon("365d")!)
        #expect(table.rows.count == 2_357)
        #expect(table.horizonDays == 365)
        let bg = table.purchaseModel, gg = try #require(table.spendModel, "Gamma-Gamma fits CDNOW")
        Self.compareParameters("daily BG/NBD parameters", ["r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b], reference.bgnbd)
        Self.compareParameters("daily Gamma-Gamma parameters", ["p": gg.p, "q": gg.q, "v": gg.v], reference.gammaGamma)
        // The summaries are lifetimes' exactly (monetary up to the cent's binary rounding).
        for row in table.rows {
            let theirs = try #require(reference.customers[row.id])
            #expect(row.summary.frequency == theirs["frequency"] && row.summary.recency == theirs["recency"] && row.summary.age == theirs["t"])
            #expect(abs(row.summary.monetary - theirs["monetary"]!) < 1e-9, "customer \(row.id)")
        }
        let steps = (1...12).map { (end: 30 * Double($0), discountExponent: Double($0)) }
        try Self.comparePredictions("daily", table.rows.map { ($0.id, $0.summary) }, reference, bg: bg, gg: gg, horizon: 365, steps: steps)
        // The table's own figures are those predictions (undiscounted value over the horizon).
        Self.compare(
            "daily expected purchases (table)", table.rows.map { ($0.id, $0.expectedPurchases, reference.customers[$0.id]!["expected_purchases"]!) })
    }

    /// Every customer's expected purchases, P(alive), expected spend and CLV against lifetimes'.
    static func comparePredictions(
        _ what: String, _ summaries: [(id: String, summary: PurchaseSummary)], _ reference: Reference,
        bg: BetaGeometricNBD, gg: GammaGammaSpend, horizon: Double, steps: [(end: Double, discountExponent: Double)]
    ) throws {
        #expect(Set(summaries.map(\.id)) == Set(reference.customers.keys))
        func pairs(_ key: String, _ ours: (PurchaseSummary) -> Double) -> [(id: String, ours: Double, theirs: Double)] {
            summaries.map { ($0.id, ours($0.summary), reference.customers[$0.id]?[key] ?? .nan) }
        }
        compare("\(what) expected purchases", pairs("expected_purchases") { bg.expectedPurchases(in: horizon, given: $0) })
        compare("\(what) P(alive)", pairs("p_alive") { bg.probabilityAlive($0) })
        compare("\(what) expected spend", pairs("expected_spend") { gg.expectedAverageSpend($0) })
        compare(
            "\(what) CLV",
            pairs("clv") { s in
                // lifetimes' CLV takes the customer's own mean (0 without repeat purchases) through
                // the Gamma-Gamma estimate.
                bg.expectedValue(given: s, spendPerPurchase: gg.expectedAverageSpend(s), steps: steps, discount: 0.01)
            })
    }
}
