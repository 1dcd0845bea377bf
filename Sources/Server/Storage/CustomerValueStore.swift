import CXModel
import CXPostgres

/// `cx.customer_value`: reads every live customer's purchases with one query, fits the value
/// models with the Model's ``CustomerValueTable`` (the code `cx value` runs on a laptop) and
/// replaces the table's rows in one transaction, so readers see the old figures or the new ones.
enum CustomerValueStore {
    /// Every live customer with a purchase, and their live purchases (as `cx.purchases` has them).
    static func histories(on connection: PostgresConnection) throws -> [CustomerValueTable.History] {
        let rows = try connection.query(
            """
            SELECT c.id::text AS id, coalesce(c.name, '') AS name, pu."on"::text AS on, pu.amount::text AS amount
            FROM cx.customers c JOIN cx.purchases pu ON pu.customer_id = c.id
            WHERE NOT c.deleted
            ORDER BY c.id
            """)
        var histories: [CustomerValueTable.History] = []
        for row in rows {
            guard let id = row["id"], let on = row["on"].flatMap(CalendarDate.init), let amount = row["amount"].flatMap(Money.init) else {
                continue
            }
            if histories.last?.id != id { histories.append(CustomerValueTable.History(id: id, name: row["name"] ?? "", purchases: [])) }
            histories[histories.count - 1].purchases.append(CustomerValueTable.DatedAmount(on: on, amount: amount))
        }
        return histories
    }

    /// Fits the models on the book as of `asOf` and replaces `cx.customer_value` with the result.
    /// - Throws: ``CustomerValueError`` when the book is too small or the purchase model's fit fails (the table is
    ///   then left as it was), or a database error.
    @discardableResult
    static func refresh(
        asOf: CalendarDate, horizon: ValueHorizon, monthlyDiscount: Double, on connection: PostgresConnection
    ) throws -> CustomerValueTable {
        try connection.transaction { connection in
            let table = try CustomerValueTable(
                histories: try histories(on: connection), observationEnd: asOf, horizon: horizon, monthlyDiscount: monthlyDiscount)
            try connection.query("DELETE FROM cx.customer_value")
            var columns = Array(repeating: [String](), count: CustomerValueTable.columnNames.count)
            for row in table.rows {
                for (index, value) in CustomerValueTable.columnValues(row).enumerated() { columns[index].append(value) }
            }
            let parameters = Dictionary(uniqueKeysWithValues: table.parameterValues.map { ($0.name, $0.value) })
            let arrays = columns.map { PostgresArrayLiteral.text($0) }
            try connection.query(
                """
                INSERT INTO cx.customer_value (
                    customer_id, name, frequency, recency, t, monetary, p_alive, expected_purchases, expected_spend, expected_value,
                    as_of, horizon, horizon_days, monthly_discount, r, alpha, a, b, p, q, v, spend_model)
                SELECT u.id::uuid, u.name, u.frequency::integer, u.recency::integer, u.t::integer, u.monetary::numeric,
                       u.p_alive::numeric, u.expected_purchases::numeric, u.expected_spend::numeric, u.expected_value::numeric,
                       \(asOf.description)::date, \(horizon.description), \(table.horizonDays),
                       \(CustomerValueTable.fixed(monthlyDiscount, places: 4))::numeric,
                       \(parameters["r"]!)::numeric, \(parameters["alpha"]!)::numeric, \(parameters["a"]!)::numeric,
                       \(parameters["b"]!)::numeric, \(parameters["p"]!)::numeric, \(parameters["q"]!)::numeric,
                       \(parameters["v"]!)::numeric, \(table.spendModelName)
                FROM unnest(\(arrays[0])::text[], \(arrays[1])::text[], \(arrays[2])::text[], \(arrays[3])::text[],
                            \(arrays[4])::text[], \(arrays[5])::text[], \(arrays[6])::text[], \(arrays[7])::text[],
                            \(arrays[8])::text[], \(arrays[9])::text[])
                     AS u(id, name, frequency, recency, t, monetary, p_alive, expected_purchases, expected_spend, expected_value)
                """)
            return table
        }
    }
}
