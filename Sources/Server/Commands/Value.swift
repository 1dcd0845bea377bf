import ArgumentParser
import CXModel

extension CXServerCommand {
    /// `cx-server value …`: the customer-value table of the central team's SQL.
    struct Value: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Refresh cx.customer_value: every customer's expected purchases and value.",
            subcommands: [Refresh.self], defaultSubcommand: Refresh.self)

        /// `cx-server value refresh`
        struct Refresh: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Fit the value models on the whole book and rewrite cx.customer_value.",
                discussion: """
                    Fits BG/NBD (purchases) and Gamma-Gamma (spend per purchase) on every live \
                    customer's purchases as known at the end of --as-of (default: today, UTC), \
                    and replaces the rows of cx.customer_value in one transaction — the figures \
                    `cx value` computes on a laptop holding the same book. Run it from cron (e.g. \
                    nightly) to keep the table current; it needs at least 10 customers who bought \
                    again on a later day, and leaves the table as it was otherwise.

                    Examples:
                      cx-server value refresh
                      cx-server value refresh --horizon 52w --as-of 2025-12-31
                    """)

            @Option(help: ArgumentHelp("How far ahead: 12m (calendar months), 52w or 365d.", valueName: "n(m|w|d)"))
            var horizon: String = "12m"
            @Option(name: .customLong("as-of"), help: ArgumentHelp("The last day of history (YYYY-MM-DD; default today, UTC).", valueName: "date"))
            var asOf: String?
            @Option(help: ArgumentHelp("Monthly discount rate of expected value, e.g. 0.01 (default 0).", valueName: "rate"))
            var discount: Double = 0

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func validate() throws {
                guard ValueHorizon(horizon) != nil else {
                    throw ValidationError("--horizon '\(horizon)' is not a horizon: write months, weeks or days, e.g. 12m, 52w or 365d")
                }
                if let asOf, CalendarDate(asOf) == nil {
                    throw ValidationError("--as-of '\(asOf)' is not a date: write YYYY-MM-DD, e.g. 2025-12-31")
                }
                guard discount >= 0, discount < 1 else {
                    throw ValidationError("--discount takes a monthly rate from 0 up to 1, e.g. --discount 0.01 for 1% a month")
                }
            }

            func run() async throws {
                let day = asOf.flatMap(CalendarDate.init) ?? CalendarDate(Timestamp.now())
                let horizon = ValueHorizon(self.horizon)!
                let logger = logging.logger("cx.server.admin")
                let table: CustomerValueTable
                do {
                    table = try database.withMigratedConnection(logger: logger) { connection in
                        try CustomerValueStore.refresh(asOf: day, horizon: horizon, monthlyDiscount: discount, on: connection)
                    }
                } catch let error as CustomerValueError {
                    throw AdminError("cx.customer_value was not refreshed: \(error.description)")
                }
                let parameters = table.parameterValues.compactMap { parameter in parameter.value.map { "\(parameter.name) \($0)" } }
                let spend = table.spendFitFailure.map {
                    " Gamma-Gamma was not fitted (\($0.description)): expected_spend is each customer's own mean repeat spend (spend_model customer-mean)."
                } ?? ""
                print(
                    "Refreshed cx.customer_value: \(table.rows.count) customers as of \(day), next \(horizon) "
                        + "(\(table.horizonDays) days). Fitted \(parameters.joined(separator: ", ")).\(spend)")
            }
        }
    }
}
