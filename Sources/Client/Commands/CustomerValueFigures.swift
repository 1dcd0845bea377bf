import CXModel

/// One customer's `cx value` figures for `cx show`: 12 months ahead, as of the command's day,
/// with the models fitted on the whole cache — or why there are none.
struct CustomerValueFigures {
    /// The fitted table, when the book is large enough.
    let table: CustomerValueTable?
    /// The customer's row, when they have a purchase and the fit succeeded.
    let row: CustomerValueTable.Row?
    /// Why there is no row: the fit's error, or no purchase.
    let reason: String?

    init(of id: String, book: CustomerBook, asOf: CalendarDate) {
        do {
            let table = try CustomerValueTable(book: book, observationEnd: asOf)
            self.table = table
            row = table.rows.first { $0.id == id }
            reason = row == nil ? "no purchase yet" : nil
        } catch {
            table = nil
            row = nil
            reason = error.description
        }
    }

    /// `,"value":{…}` or `,"value":null`, keys in alphabetical order.
    func jsonMember() -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.raw(",\"value\":")
        guard let table, let row else {
            w.raw("null")
            return w.bytes
        }
        let values = Dictionary(uniqueKeysWithValues: zip(CustomerValueTable.columnNames, CustomerValueTable.columnValues(row)))
        let members: [(String, String)] = [("as_of", table.observationEnd.description), ("horizon", table.horizon.description)]
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
        guard let table, let row else {
            return reason.map { "  Value: none (\($0))" }
        }
        let v = Dictionary(uniqueKeysWithValues: zip(CustomerValueTable.columnNames, CustomerValueTable.columnValues(row)))
        return "  Value: \(v["expected_value"]!) expected in the next \(table.horizon) (\(v["expected_purchases"]!) purchases × "
            + "\(v["expected_spend"]!)), P(alive) \(v["p_alive"]!); \(v["frequency"]!) repeat purchases, "
            + "last \(v["recency"]!) days after the first, \(v["t"]!) days ago — `cx value` for everyone"
    }
}
