import ArgumentParser
import CXModel

/// `--as-of DATE`: look at the book as it stood on DATE — statuses as of that day, and the
/// report's default period its year — e.g. "who was bad debt at quarter end".
struct AsOfOption: ParsableArguments {
    @Option(
        name: .customLong("as-of"),
        help: ArgumentHelp("Classify as of this day (YYYY-MM-DD) instead of today.", valueName: "date"))
    var asOf: String?

    /// The date, checked: exit 64 for a malformed date or a year outside 1900–9999.
    func date() throws -> CalendarDate? {
        guard let asOf else { return nil }
        guard let date = CalendarDate(asOf) else {
            throw CXError(.usage, "--as-of '\(asOf)' is not a date", hint: "Write dates as YYYY-MM-DD, e.g. --as-of 2025-03-31.")
        }
        try OptionValues.requireYear(of: date, text: asOf, option: "--as-of")
        return date
    }

    /// Makes `context` look from the date, when one was given.
    func apply(to context: CommandContext) throws {
        if let date = try date() { context.asOf = date }
    }
}
