import CXModel
import Foundation

/// `value-models.json` beside the cache: the models `cx value` (or `cx show --value`) last
/// fitted, so that `cx show` computes one customer's value from that customer's activities
/// instead of refitting on the whole book. Derived data: losing it loses nothing (the next
/// `cx value` writes it again), and an unreadable one is ignored.
struct ValueModelsFile {
    let path: String

    init(_ paths: Paths) {
        path = paths.dataDirectory + "/value-models.json"
    }

    /// The kept models, or `nil` when there are none (or the file is not one this version reads).
    func load() -> CustomerValueModels? {
        guard let bytes = try? POSIX.readFile(path),
            let document = try? JSONDecoder().decode(Document.self, from: Data(bytes)), document.version == 1,
            let fittedAsOf = CalendarDate(document.fittedAsOf)
        else { return nil }
        let b = document.bgnbd
        return CustomerValueModels(
            fittedAsOf: fittedAsOf, customersFitted: document.customersFitted,
            purchaseModel: BetaGeometricNBD(r: b.r, alpha: b.alpha, a: b.a, b: b.b),
            spendModel: document.gammaGamma.map { GammaGammaSpend(p: $0.p, q: $0.q, v: $0.v) },
            meanRepeatSpend: document.meanRepeatSpend)
    }

    /// Keeps `models` (atomically: a reader sees the old file or the new one).
    func save(_ models: CustomerValueModels) throws {
        let m = models.purchaseModel
        let document = Document(
            version: 1, fittedAsOf: models.fittedAsOf.description, customersFitted: models.customersFitted,
            bgnbd: .init(r: m.r, alpha: m.alpha, a: m.a, b: m.b),
            gammaGamma: models.spendModel.map { .init(p: $0.p, q: $0.q, v: $0.v) }, meanRepeatSpend: models.meanRepeatSpend)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try POSIX.writeAtomically(Array(try encoder.encode(document)) + [UInt8(ascii: "\n")], to: path)
    }

    private struct Document: Codable {
        struct PurchaseParameters: Codable { var r, alpha, a, b: Double }
        struct SpendParameters: Codable { var p, q, v: Double }
        var version: Int
        var fittedAsOf: String
        var customersFitted: Int
        var bgnbd: PurchaseParameters
        var gammaGamma: SpendParameters?
        var meanRepeatSpend: Double

        private enum CodingKeys: String, CodingKey {
            case version, fittedAsOf = "fitted_as_of", customersFitted = "customers_fitted", bgnbd, gammaGamma = "gamma_gamma"
            case meanRepeatSpend = "mean_repeat_spend"
        }
    }
}
