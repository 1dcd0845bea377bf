import ArgumentParser
import CXModel

extension CX {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Customer-base metrics, statuses and NPS for a period, from the local cache.",
            discussion: """
                The period is [from, to): --year 2025 is [2025-01-01, 2026-01-01); without options, \
                the current calendar year. Statuses are counted as of the last day of the period. \
                The numbers are the same as the server's cx.customer_metrics(from, to) and \
                cx.nps(from, to) on the same data; run `cx sync` first for an up-to-date report. \
                A home that was never initialised or never synced is reported on stderr (the \
                output stays the all-zero report, exit 0); a home that does not exist at all is \
                an error (exit 1).

                JSON: {"from","to","metrics":{"gross_new":n,…,"revenue_new":"0.00",…},
                "statuses":{"lead":n,…},"nps":{"overall":{"responses","promoters","detractors",
                "nps":"33.3"|null},"territories":{"north":{…}}}}

                Breakdowns and series: --by territory|segment|owner gives one row per value (the \
                customers without one under "", shown as (none)) and a total row (group_value \
                null, shown as (total)), as cx.customer_metrics_by; --every month|quarter|year \
                gives one row per period of the range, as cx.customer_metrics_series. Their rows \
                print as a table, or with --format csv|json with the SQL functions' column names \
                (period_start, period_end, gross_new, …, customer). Groups are the customers in \
                your cache, so they follow your scope.

                Examples:
                  cx report
                  cx report --year 2025 --json
                  cx report --from 2025-07-01 --to 2025-10-01
                  cx report --year 2025 --by territory
                  cx report --year 2025 --every month --format csv > 2025.csv
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var asOf: AsOfOption
        @Option(parsing: .unconditional, help: "A calendar year (1900–9999): the period [YYYY-01-01, YYYY+1-01-01).") var year: Int?
        @Option(help: ArgumentHelp("First day of the period (YYYY-MM-DD); needs --to.", valueName: "date")) var from: String?
        @Option(help: ArgumentHelp("First day after the period (YYYY-MM-DD); needs --from.", valueName: "date")) var to: String?
        @Flag(help: "Print one JSON object (the same as --format json).") var json = false
        @Option(help: "One row per territory, segment or owner, plus the total.") var by: MetricsDimension?
        @Option(help: "One row per month, quarter or year of the period.") var every: ReportingStep?
        @Option(help: "table, json or csv (csv is for --by, --every or a one-row period).") var format: TableFormat?

        func validate() throws {
            if by != nil && every != nil {
                throw ValidationError("--by and --every cannot be combined; run one report per territory/segment/owner or per period")
            }
            if json, let format, format != .json {
                throw ValidationError("--json and --format \(format.rawValue) contradict each other")
            }
        }

        func run() async throws {
            try await runCommand(global) { context in
                try asOf.apply(to: context)
                let (start, end, settings, book) = try context.insightInputs(year: year, from: from, to: to, what: "the report")
                let format = json ? .json : format
                let shown = ["active", "gross_new", "existing", "lost", "net_new", "revenue_per_new", "revenue_per_existing", "customer", "bad_debt"]
                if let by {
                    let (groups, total) = await CustomerBaseMetrics.breakdown(book: book, by: by, start: start, end: end, settings: settings)
                    var table = OutputTable(breakdown: groups, total: total)
                    if format ?? .table == .table {
                        table.rows = table.rows.map { row in [row[0].map { $0.isEmpty ? "(none)" : $0 }] + row.dropFirst() }
                        context.terminal.line(context.terminal.out("Customer base \(start) – \(end.adding(days: -1)) by \(by.rawValue)", .bold))
                    }
                    table.print(format ?? .table, terminal: context.terminal, showing: ["group_value"] + shown, nilAs: "(total)")
                    return
                }
                if let every {
                    let table = OutputTable(series: await CustomerBaseMetrics.series(book: book, from: start, to: end, every: every, settings: settings))
                    table.print(format ?? .table, terminal: context.terminal, showing: ["period_start"] + shown)
                    return
                }
                let report = InsightReport(book: book, start: start, end: end, settings: settings)
                if format == .csv {
                    OutputTable(series: [report.metrics]).print(.csv, terminal: context.terminal, showing: [])
                } else if format == .json {
                    CommandOutput.printJSON(report.jsonBytes(), terminal: context.terminal)
                } else {
                    for line in report.humanLines(terminal: context.terminal) { context.terminal.line(line) }
                }
            }
        }
    }
}

/// The figures of `cx report` for [start, end).
public struct InsightReport {
    public let start: CalendarDate
    public let end: CalendarDate
    public let metrics: CustomerBaseMetrics
    public let nps: NetPromoterScore
    public let npsByTerritory: [String: NetPromoterScore]

    public init(book: CustomerBook, start: CalendarDate, end: CalendarDate, settings: ClassificationSettings) {
        self.start = start
        self.end = end
        metrics = CustomerBaseMetrics(book: book, start: start, end: end, settings: settings)
        (nps, npsByTerritory) = NetPromoterScore.compute(book: book, start: start, end: end)
    }

    /// The period from the command line: `--year`, or `--from` and `--to`, or the current year.
    ///
    /// - Throws: exit 64 for a malformed date, a partial or mixed period, or `to` ≤ `from`.
    public static func period(year: Int?, from: String?, to: String?, today: CalendarDate) throws -> (CalendarDate, CalendarDate) {
        func date(_ text: String, _ option: String) throws -> CalendarDate {
            guard let date = CalendarDate(text) else {
                throw CXError(.usage, "\(option) '\(text)' is not a date", hint: "Write dates as YYYY-MM-DD, e.g. 2025-01-01.")
            }
            try OptionValues.requireYear(of: date, text: text, option: option)
            return date
        }
        func yearPeriod(_ year: Int) throws -> (CalendarDate, CalendarDate) {
            try OptionValues.requireYear(year, option: "--year")
            guard year < OptionValues.years.upperBound, let start = CalendarDate(year: year, month: 1, day: 1),
                let end = CalendarDate(year: year + 1, month: 1, day: 1)
            else { throw CXError(.usage, "--year \(year) is not a valid year", hint: "Give a four-digit year, e.g. --year 2025.") }
            return (start, end)
        }
        if let year {
            guard from == nil, to == nil else {
                throw CXError(.usage, "--year cannot be combined with --from/--to", hint: "Use either --year YYYY or --from DATE --to DATE.")
            }
            return try yearPeriod(year)
        }
        switch (from, to) {
        case (nil, nil):
            return try yearPeriod(today.components.year)
        case let (from?, to?):
            let start = try date(from, "--from"), end = try date(to, "--to")
            guard start < end else {
                throw CXError(.usage, "--to \(end) must be after --from \(start)", hint: "The period is [from, to): --to is the first day after it.")
            }
            return (start, end)
        default:
            throw CXError(.usage, "--from and --to go together", hint: "Give both, e.g. --from 2025-01-01 --to 2025-07-01, or use --year.")
        }
    }

    /// The metrics in contract order: name, value as printed, explanation.
    public var metricRows: [(name: String, count: Int?, money: Money?, explanation: String)] {
        let m = metrics
        return [
            ("gross_new", m.grossNew, nil, "customers whose first purchase ever is in the period"),
            ("active", m.active, nil, "customers with a purchase in the period"),
            ("existing", m.existing, nil, "active customers who first bought before the period"),
            ("base_start", m.baseStart, nil, "customers who bought in the window before the period start"),
            ("base_end", m.baseEnd, nil, "customers who bought in the window before the period end"),
            ("retained", m.retained, nil, "customers in both bases"),
            ("lost", m.lost, nil, "base_start − retained"),
            ("net_new", m.netNew, nil, "base_end − base_start"),
            ("revenue_new", nil, m.revenueNew, "net revenue in the period from new customers"),
            ("revenue_existing", nil, m.revenueExisting, "net revenue in the period from existing customers"),
            ("revenue_per_new", nil, m.revenuePerNew, "revenue_new / gross_new"),
            ("revenue_per_existing", nil, m.revenuePerExisting, "revenue_existing / existing"),
        ]
    }

    /// The `--json` document.
    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter(capacity: 2048)
        w.raw("{\"from\":")
        w.string(start.description)
        w.raw(",\"to\":")
        w.string(end.description)
        w.raw(",\"metrics\":{")
        for (index, row) in metricRows.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(row.name)
            w.byte(UInt8(ascii: ":"))
            if let count = row.count { Self.integer(count, into: &w) } else { w.string(row.money!.description) }
        }
        w.raw("},\"statuses\":{")
        for (index, status) in CustomerStatus.allCases.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(status.rawValue)
            w.byte(UInt8(ascii: ":"))
            Self.integer(metrics.statusCounts[status] ?? 0, into: &w)
        }
        w.raw("},\"nps\":{\"overall\":")
        Self.encode(nps, into: &w)
        w.raw(",\"territories\":{")
        for (index, territory) in npsByTerritory.keys.sorted().enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(territory)
            w.byte(UInt8(ascii: ":"))
            Self.encode(npsByTerritory[territory]!, into: &w)
        }
        w.raw("}}}")
        return w.bytes
    }

    static func integer(_ value: Int, into w: inout JSONWriter) {
        if value < 0 { w.byte(UInt8(ascii: "-")) }
        w.number(UInt64(value.magnitude))
    }

    static func encode(_ score: NetPromoterScore, into w: inout JSONWriter) {
        w.raw("{\"responses\":")
        integer(score.responses, into: &w)
        w.raw(",\"promoters\":")
        integer(score.promoters, into: &w)
        w.raw(",\"detractors\":")
        integer(score.detractors, into: &w)
        w.raw(",\"nps\":")
        w.optionalString(score.scoreText)
        w.byte(UInt8(ascii: "}"))
    }

    /// The human report.
    public func humanLines(terminal: Terminal) -> [String] {
        var lines: [String] = []
        let last = end.adding(days: -1)
        lines.append(terminal.out("Customer base \(start) – \(last)", .bold) + "  (period [\(start), \(end)))")
        var table = TextTable(headers: ["METRIC", "VALUE", "MEANING"])
        for row in metricRows {
            table.add([row.name, row.count.map(String.init) ?? row.money!.description, row.explanation])
        }
        for line in table.render(maxWidth: 80, header: { terminal.out($0, .dim) }) { lines.append("  " + line) }

        lines.append("")
        lines.append(terminal.out("Revenue per customer", .bold))
        lines.append("  new       \(metrics.revenuePerNew)  (\(metrics.revenueNew) from \(metrics.grossNew) new customer\(metrics.grossNew == 1 ? "" : "s"))")
        lines.append("  existing  \(metrics.revenuePerExisting)  (\(metrics.revenueExisting) from \(metrics.existing) existing customer\(metrics.existing == 1 ? "" : "s"))")

        lines.append("")
        lines.append(terminal.out("Customers by status as of \(last)", .bold))
        var statuses = TextTable(headers: ["STATUS", "COUNT"])
        for status in CustomerStatus.allCases { statuses.add([status.rawValue, String(metrics.statusCounts[status] ?? 0)]) }
        for line in statuses.render(header: { terminal.out($0, .dim) }) { lines.append("  " + line) }

        lines.append("")
        lines.append(terminal.out("Net Promoter Score", .bold) + "  (ratings 9–10 promoters, 0–6 detractors)")
        var scores = TextTable(headers: ["TERRITORY", "NPS", "RESPONSES", "PROMOTERS", "DETRACTORS"])
        func add(_ name: String, _ score: NetPromoterScore) {
            scores.add([name, score.scoreText ?? "–", String(score.responses), String(score.promoters), String(score.detractors)])
        }
        add("overall", nps)
        for territory in npsByTerritory.keys.sorted() { add(territory.isEmpty ? "(none)" : territory, npsByTerritory[territory]!) }
        for line in scores.render(header: { terminal.out($0, .dim) }) { lines.append("  " + line) }
        return lines
    }
}
