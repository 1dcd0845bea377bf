import ArgumentParser
import CXModel

extension CX {
    struct Cohorts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Customers grouped by the period of their first purchase, and who stayed, from the local cache.",
            discussion: """
                A cohort is the customers whose first purchase ever falls in one calendar period \
                (--by month, quarter or year). For each cohort and each period from its own on: \
                its size, how many were still in the customer base on the period's last day (a \
                purchase within window_days before it), that share in percent, and the cohort's \
                revenue in the period. The cohorts are the periods that start in [from, to) — \
                --year Y, or --from/--to, default the current year — the first being the one \
                that contains from. The numbers are the same as the server's \
                cx.cohorts(step, from, to) on the same data.

                Columns (csv, json): cohort_start, period_start, period_end, customers, active, \
                retention, revenue.

                Examples:
                  cx cohorts --by quarter --year 2025
                  cx cohorts --by month --from 2025-01-01 --to 2025-07-01 --format csv > cohorts.csv
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "The cohort period: month, quarter or year.") var by: ReportingStep = .quarter
        @Option(parsing: .unconditional, help: "A calendar year (1900–9999): cohorts starting in it.") var year: Int?
        @Option(help: ArgumentHelp("First day of the range (YYYY-MM-DD); needs --to.", valueName: "date")) var from: String?
        @Option(help: ArgumentHelp("First day after the range (YYYY-MM-DD); needs --from.", valueName: "date")) var to: String?
        @Option(help: "table, json or csv.") var format: TableFormat = .table

        func run() async throws {
            try await runCommand(global) { context in
                let (start, end, settings, book) = try context.insightInputs(year: year, from: from, to: to, what: "the cohorts")
                let table = OutputTable(cohorts: CohortTable(book: book, step: by, from: start, to: end, settings: settings))
                table.print(format, terminal: context.terminal, showing: table.columns.filter { $0 != "period_end" })
            }
        }
    }
}
