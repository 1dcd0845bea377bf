import ArgumentParser
import CXModel

extension CX {
    struct Value: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each customer's recency, frequency, spend and expected value, from models fitted on the local cache.",
            discussion: """
                Fits two buy-till-you-die models on the customers in your cache, as known at the \
                end of today (or --as-of): BG/NBD for how often customers buy and when they stop, \
                Gamma-Gamma for how much they spend per purchase (the models of the Python \
                package lifetimes, which gives the same figures). Purchases of one day count as \
                one; times are in days. Then, for every customer with a purchase:

                  frequency           repeat purchases (days with a purchase after the first)
                  recency, t          days from the first purchase to the last, and to today
                  monetary            mean spend of the repeat purchase days
                  p_alive             probability the customer will still buy
                  expected_purchases  expected purchases within the horizon
                  expected_spend      expected spend per future purchase
                  expected_value      expected_spend × expected_purchases, discounted per month

                The horizon starts tomorrow: --horizon 12m (calendar months, the default), 52w \
                or 365d. --discount is a monthly rate applied per month of the horizon (0, the \
                default: undiscounted). The fit needs at least 10 customers who bought again on a \
                later day. The server's table cx.customer_value holds the same figures after \
                `cx-server value refresh`. The fitted models are kept beside the cache, so that \
                `cx show` shows a customer's figures without fitting again.

                JSON: {"as_of","horizon","horizon_days","monthly_discount","customers_fitted",
                "parameters":{"r","alpha","a","b","p","q","v"},"customers":[{"customer_id",
                "name","frequency","recency","t","monetary","p_alive","expected_purchases",
                "expected_spend","expected_value"}…]} — highest expected value first.

                Examples:
                  cx value
                  cx value --horizon 52w --as-of 2025-12-31 --json
                  cx value --format csv > value.csv
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var asOf: AsOfOption
        @Option(parsing: .unconditional, help: ArgumentHelp("How far ahead: 12m (calendar months), 52w or 365d.", valueName: "n(m|w|d)"))
        var horizon: ValueHorizon = .twelveMonths
        @Option(
            parsing: .unconditional, help: ArgumentHelp("Monthly discount rate of expected value, e.g. 0.01 (default 0).", valueName: "rate"))
        var discount: Double = 0
        @Flag(help: "Print one JSON object (the same as --format json).") var json = false
        @Option(help: "table, json or csv.") var format: TableFormat?

        func validate() throws {
            guard discount >= 0, discount < 1 else {
                throw ValidationError("--discount takes a monthly rate from 0 up to 1, e.g. --discount 0.01 for 1% a month")
            }
            if json, let format, format != .json {
                throw ValidationError("--json and --format \(format.rawValue) contradict each other")
            }
        }

        func run() async throws {
            try await runCommand(global) { context in
                try asOf.apply(to: context)
                let today = try context.today()
                let store = try context.openStore(exclusive: false)
                defer { store.close() }
                try context.checkHomeBeforeReading(store, what: "the value table", emptyBook: true)
                let table = try Self.fit(book: try store.customerBook(), asOf: today, horizon: horizon, discount: discount)
                // Kept for `cx show`, which then shows one customer's figures without refitting.
                do {
                    try ValueModelsFile(context.paths).save(table.models)
                } catch {
                    context.terminal.warn("the fitted models could not be kept for `cx show` (\(error)); `cx show --value` fits them when needed")
                }
                let chosen: TableFormat = json ? .json : format ?? .table
                switch chosen {
                case .json:
                    CommandOutput.printJSON(table.jsonBytes(), terminal: context.terminal)
                case .csv:
                    OutputTable(value: table).print(.csv, terminal: context.terminal, showing: [])
                case .table:
                    for line in table.humanHeader() { context.terminal.line(context.terminal.out(line, .dim)) }
                    var output = OutputTable(value: table)
                    output.rows = output.rows.map { row in [row[0].map(Describe.short)] + row.dropFirst() }
                    output.print(
                        .table, terminal: context.terminal,
                        showing: ["customer_id", "name", "frequency", "recency", "t", "monetary", "p_alive", "expected_purchases", "expected_value"])
                }
            }
        }

        /// The fitted table, or the reason there is none as a ``CXError`` (exit 1) with a hint.
        static func fit(book: CustomerBook, asOf: CalendarDate, horizon: ValueHorizon, discount: Double) throws -> CustomerValueTable {
            do {
                return try CustomerValueTable(book: book, observationEnd: asOf, horizon: horizon, monthlyDiscount: discount)
            } catch {
                throw CXError(.failure, error.description, hint: "Run `cx sync` for the whole book you can see; `cx report` works on any book.")
            }
        }
    }
}

extension ValueHorizon: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension CustomerValueTable {
    /// The `cx value --json` document (keys in alphabetical order at each level but the rows',
    /// which follow the columns).
    func jsonBytes() -> [UInt8] {
        var w = JSONWriter(capacity: 256 * (rows.count + 2))
        w.raw("{\"as_of\":")
        w.string(observationEnd.description)
        w.raw(",\"customers\":")
        w.rawJSON(OutputTable(value: self).jsonBytes())
        w.raw(",\"customers_fitted\":")
        InsightReport.integer(rows.count, into: &w)
        w.raw(",\"horizon\":")
        w.string(horizon.description)
        w.raw(",\"horizon_days\":")
        InsightReport.integer(horizonDays, into: &w)
        w.raw(",\"monthly_discount\":")
        w.string(Self.fixed(monthlyDiscount, places: 4))
        w.raw(",\"parameters\":{")
        for (index, parameter) in parameterValues.sorted(by: { $0.name < $1.name }).enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(parameter.name)
            w.byte(UInt8(ascii: ":"))
            w.optionalString(parameter.value)
        }
        w.raw("},\"spend_model\":")
        w.string(spendModelName)
        w.raw("}")
        return w.bytes
    }

    /// The lines above the human table: what was fitted, on what, and the parameters.
    func humanHeader() -> [String] {
        let parameters = Dictionary(uniqueKeysWithValues: parameterValues.map { ($0.name, $0.value ?? "") })
        let discount = monthlyDiscount == 0 ? "undiscounted" : "discounted \(Self.fixed(monthlyDiscount * 100, places: 2))% a month"
        let spend =
            spendModel == nil
            ? "spend: each customer's own mean repeat spend (the book's mean for one-time buyers), because \(spendFitFailure?.description ?? "Gamma-Gamma could not be fitted")"
            : "Gamma-Gamma p \(parameters["p"]!), q \(parameters["q"]!), v \(parameters["v"]!)"
        return [
            "Customer value as of \(observationEnd), next \(horizon) (\(horizonDays) days), \(discount); fitted on \(rows.count) customers",
            "BG/NBD r \(parameters["r"]!), alpha \(parameters["alpha"]!) days, a \(parameters["a"]!), b \(parameters["b"]!); " + spend,
        ]
    }
}

extension OutputTable {
    /// Customer value: as SQL's `cx.customer_value`, one row per customer.
    init(value table: CustomerValueTable) {
        columns = CustomerValueTable.columnNames
        rows = table.rows.map { CustomerValueTable.columnValues($0).map(Optional.some) }
        integerColumns = CustomerValueTable.integerColumns
    }
}
