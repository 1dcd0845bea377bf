import ArgumentParser
import Logging

/// `--log-level` and `--log-format`, shared by every subcommand.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: info for serve, warning for the other commands).")
    var logLevel: Logger.Level?

    @Option(help: "Log format: text (one readable line per event) or json (one JSON object per line).")
    var logFormat: LogFormat = .text

    /// How log lines are written to stderr.
    enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
        case text, json
    }

    /// The command's logger.
    ///
    /// - Parameters:
    ///   - label: The logger label, e.g. `cx.server`.
    ///   - defaultLevel: The level without `--log-level`: `serve` reports what it does at `info`;
    ///     admin commands print only what needs attention (`warning`), their result is on stdout.
    func logger(_ label: String, defaultLevel: Logger.Level = .warning) -> Logger {
        var logger: Logger
        switch logFormat {
        case .text: logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        case .json: logger = Logger(label: label) { JSONLogHandler(label: $0) }
        }
        logger.logLevel = logLevel ?? defaultLevel
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
