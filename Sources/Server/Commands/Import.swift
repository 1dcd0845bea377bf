import ArgumentParser
import CXModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension CXServerCommand {
    /// `cx-server import customers|activities|payments FILE.csv`: bulk loads from the ERP.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load customers, activities or payments from an ERP export (CSV).",
            discussion: """
                Each import is one transaction: if any row is bad, nothing is written and every bad \
                row is reported as FILE:LINE: problem (exit code 65). Rows are matched to stored \
                records by their ref column (the record's reference field): a row whose ref is \
                already stored updates that record, writing only the values that differ, so running \
                an import again, or importing an overlapping export, duplicates nothing. Rows without \
                a ref are always new records. The writes are those of the server replica \
                import:<your user name>, audited, and reach the laptops at their next sync; a laptop's \
                offline edit of a value the import also wrote becomes a conflict there.

                Columns are described in docs/server.md, "Loading from the ERP".

                Examples:
                  cx-server import customers customers.csv --dry-run
                  cx-server import activities invoices-2026.csv
                  cx-server import payments payments-2026-11.csv --json
                """,
            subcommands: [Customers.self, Activities.self, Payments.self])

        /// `cx-server import customers FILE`
        struct Customers: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Load customers: ref, name, company, email, phone, address, city, country, territory, owner, segment, notes, tags, extra.<key>.",
                discussion: "Example: cx-server import customers customers.csv --dry-run")
            @OptionGroup var options: ImportOptions
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func run() async throws { try options.run(.customers, database: database, logging: logging) }
        }

        /// `cx-server import activities FILE`
        struct Activities: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Load purchases, referrals and touchpoints: ref, customer_id | customer_ref | customer_email, type, on, amount, margin, due_on, paid_on, nps, channel, note, ….",
                discussion: "Example: cx-server import activities invoices-2026.csv")
            @OptionGroup var options: ImportOptions
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func run() async throws { try options.run(.activities, database: database, logging: logging) }
        }

        /// `cx-server import payments FILE`
        struct Payments: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Mark purchases paid: ref (the purchase's reference), paid_on.",
                discussion: "Example: cx-server import payments payments-2026-11.csv")
            @OptionGroup var options: ImportOptions
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func run() async throws { try options.run(.payments, database: database, logging: logging) }
        }
    }
}

/// The file and flags every import takes.
struct ImportOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The CSV file (UTF-8, header row first).", valueName: "file.csv"))
    var file: String

    @Flag(help: "Check every row and report what would be created, updated and unchanged; write nothing.")
    var dryRun = false

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    /// Exit code for bad input data (as `cx`).
    static let dataError: Int32 = 65

    func run(_ kind: ImportKind, database: DatabaseOptions, logging: LoggingOptions) throws {
        let logger = logging.logger("cx.server.admin")
        let started = ContinuousClock.now
        guard let data = FileManager.default.contents(atPath: file) else {
            throw AdminError("cannot read \(file): no such file, or it is not readable")
        }
        let bytes = [UInt8](data)
        let progress = ImportProgress()
        let parsed = ImportFile.parse(bytes, as: kind) { fraction in
            progress.update("checking", fraction: fraction)
        }
        progress.finish()
        if parsed.problems.contains(where: { $0.line == 1 }) {
            try reject(parsed.problems, count: parsed.problemCount)  // a bad header: no row can be read
        }
        // With bad values, the valid rows are still checked against the database (customers,
        // refs) without writing, so one run reports every problem.
        let badValues = parsed.problemCount > 0
        let rowCount = parsed.file.rows.count
        let writer = Self.osUserName()
        let summary: ImportSummary
        do {
            summary = try database.withMigratedConnection(logger: logger) { connection in
                var run = ERPImport(file: parsed.file, writer: writer, dryRun: dryRun || badValues)
                run.progress = { done in
                    progress.update(
                        dryRun ? "checking" : "importing", fraction: Double(done) / Double(max(rowCount, 1)),
                        detail: "\(ImportOutput.grouped(done))/\(ImportOutput.grouped(rowCount)) rows")
                }
                return try run.run(on: connection)
            }
        } catch let rejected as ImportRejected {
            progress.finish()
            let all = (parsed.problems + rejected.problems).sorted { $0.line < $1.line }
            try reject(Array(all.prefix(200)), count: parsed.problemCount + rejected.count)
        }
        progress.finish()
        if badValues { try reject(parsed.problems, count: parsed.problemCount) }
        let elapsed = (ContinuousClock.now - started).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        if json {
            print(Self.json(summary, file: file, seconds: seconds))
        } else {
            let what = summary.rows == 1 ? String(kind.rawValue.dropLast()) : kind.rawValue
            let verb = dryRun ? "Would import" : "Imported"
            let rate = seconds > 0 && summary.rows >= 1000 ? " (\(ImportOutput.grouped(Int(Double(summary.rows) / seconds))) rows/s)" : ""
            print(
                "\(verb) \(ImportOutput.grouped(summary.rows)) \(what) from \(file) as \(summary.replica) in "
                    + "\(ImportOutput.decimal(seconds, places: 1)) s\(rate): \(summary.created) new, \(summary.updated) updated, \(summary.unchanged) unchanged.")
        }
    }

    /// Reports bad rows on stderr (as `cx import`: FILE:LINE: problem) and exits with 65.
    private func reject(_ problems: [ImportProblem], count: Int) throws -> Never {
        for problem in problems { ImportOutput.standardError("\(file):\(problem.line): \(problem.message)\n") }
        if count > problems.count { ImportOutput.standardError("… and \(count - problems.count) more problems\n") }
        ImportOutput.standardError("Error: \(count) bad row\(count == 1 ? "" : "s") in \(file); nothing was imported. Fix the rows listed above and run the import again.\n")
        throw ExitCode(Self.dataError)
    }

    /// The summary for scripts: one JSON object.
    static func json(_ summary: ImportSummary, file: String, seconds: Double) -> String {
        var w = JSONWriter()
        w.raw("{\"kind\":")
        w.string(summary.kind.rawValue)
        w.raw(",\"file\":")
        w.string(file)
        for (key, value) in [("rows", summary.rows), ("created", summary.created), ("updated", summary.updated), ("unchanged", summary.unchanged)] {
            w.byte(UInt8(ascii: ","))
            w.string(key)
            w.byte(UInt8(ascii: ":"))
            w.number(UInt64(value))
        }
        w.raw(",\"dry_run\":")
        w.bool(summary.dryRun)
        w.raw(",\"replica\":")
        w.string(summary.replica)
        w.raw(",\"seconds\":")
        w.rawJSON(ImportOutput.decimal(seconds, places: 3).utf8)
        w.byte(UInt8(ascii: "}"))
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// The OS user running the import: its writes are those of replica `import:<name>`.
    static func osUserName() -> String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        return ProcessInfo.processInfo.environment["USER"] ?? "uid\(geteuid())"
    }
}
