import ArgumentParser
import CXModel

/// Checks shared by options that take numbers and dates.
///
/// Options that take a number are declared with `parsing: .unconditional`, so a leading minus
/// is read as a value (`--margin -0.02`), not as an option. The price is that a forgotten value
/// (`--margin --on 2026-03-01`) would swallow the next option; ``requireValue(_:option:)`` turns
/// that into the usage error ArgumentParser would have given.
enum OptionValues {
    /// The years a date on the command line may fall in: two-digit years (`--year 25`) and
    /// typos (`20225`) are refused rather than read as the year 0025.
    static let years = 1900...9999

    /// Throws a usage error (exit 64) when `value` is another option rather than a value.
    static func requireValue(_ value: String?, option: String) throws {
        guard let value, value.hasPrefix("--"), value.count > 2 else { return }
        throw ValidationError("Missing value for '\(option)': '\(value)' is an option, not a value.")
    }

    /// Throws a usage error (exit 64) when `year` is outside ``years``.
    static func requireYear(_ year: Int, option: String) throws {
        guard years.contains(year) else {
            throw CXError(
                .usage, "\(option) \(year) is out of range: years go from \(years.lowerBound) to \(years.upperBound)",
                hint: "Write the full four-digit year, e.g. \(option) \(suggestedYear(year)).")
        }
    }

    /// Throws a usage error (exit 64) when `date` (as given to `option`) is outside ``years``.
    static func requireYear(of date: CalendarDate, text: String, option: String) throws {
        let year = date.components.year
        guard years.contains(year) else {
            throw CXError(
                .usage, "\(option) \(text): the year \(year) is out of range (\(years.lowerBound)–\(years.upperBound))",
                hint: "Write dates as YYYY-MM-DD with the full year, e.g. \(suggestedYear(year))-01-31.")
        }
    }

    /// `25` → 2025: what a two-digit year most likely meant.
    private static func suggestedYear(_ year: Int) -> Int {
        (0..<100).contains(year) ? 2000 + year : 2025
    }
}
