import CXModel

/// One customer's `cx value` figures for `cx show`: 12 months ahead, as of the command's day —
/// from models fitted on the whole cache now (`--value`) or from the ones `cx value` kept — or
/// why there are none.
struct CustomerValueFigures {
    /// The day the figures are as of.
    let asOf: CalendarDate
    /// How far ahead they look.
    let horizon: ValueHorizon = .twelveMonths
    /// The models used, when there are any.
    let models: CustomerValueModels?
    /// The customer's row, when they have a purchase and there are models.
    let row: CustomerValueTable.Row?
    /// Why there is no row: the fit's error, no purchase, or no models kept yet.
    let reason: String?

    /// Fits the models on the whole `book` as of `asOf` (seconds on a large book).
    init(of id: String, book: CustomerBook, asOf: CalendarDate) {
        self.asOf = asOf
        do {
            let table = try CustomerValueTable(book: book, observationEnd: asOf)
            models = table.models
            row = table.rows.first { $0.id == id }
            reason = row == nil ? "no purchase yet" : nil
        } catch {
            models = nil
            row = nil
            reason = error.description
        }
    }

    /// Uses kept `models` (`nil`: none kept yet) on the customer's own purchases.
    init(of customer: CustomerValueTable.History, models: CustomerValueModels?, asOf: CalendarDate) {
        self.asOf = asOf
        self.models = models
        row = models?.row(of: customer, observationEnd: asOf)
        reason = models == nil ? "no models fitted yet: run `cx value` once" : row == nil ? "no purchase yet" : nil
    }

    /// `,"value":{…}` or `,"value":null`, keys in alphabetical order.
    func jsonMember() -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.raw(",\"value\":")
        guard let models, let row else {
            w.raw("null")
            return w.bytes
        }
        let values = Dictionary(uniqueKeysWithValues: zip(CustomerValueTable.columnNames, CustomerValueTable.columnValues(row)))
        let members: [(String, String)] = [
            ("as_of", asOf.description), ("horizon", horizon.description), ("models_fitted_as_of", models.fittedAsOf.description),
        ]
            + ["expected_purchases", "expected_spend", "expected_value", "frequency", "monetary", "p_alive", "recency", "t"].map { ($0, values[$0]!) }
        w.byte(UInt8(ascii: "{"))
        for (index, (name, value)) in members.sorted(by: { $0.0 < $1.0 }).enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(name)
            w.byte(UInt8(ascii: ":"))
            if CustomerValueTable.integerColumns.contains(name), let number = Int(value) {
                InsightReport.integer(number, into: &w)
            } else {
                w.string(value)
            }
        }
        w.byte(UInt8(ascii: "}"))
        return w.bytes
    }

    /// `  Value: …` for the human `cx show`, or why there is none.
    func humanLine() -> String? {
        guard let models, let row else {
            return reason.map { "  Value: none (\($0))" }
        }
        let v = Dictionary(uniqueKeysWithValues: zip(CustomerValueTable.columnNames, CustomerValueTable.columnValues(row)))
        let fitted = models.fittedAsOf == asOf ? "" : " (models fitted as of \(models.fittedAsOf))"
        return "  Value\(fitted): \(v["expected_value"]!) expected in the next \(horizon) (\(v["expected_purchases"]!) purchases × "
            + "\(v["expected_spend"]!)), P(alive) \(v["p_alive"]!); \(v["frequency"]!) repeat purchases, "
            + "last \(v["recency"]!) days after the first, \(v["t"]!) days ago — `cx value` for everyone"
    }
}
