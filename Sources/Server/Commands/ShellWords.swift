#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Quoting for command lines the server prints as hints, so they can be pasted into a shell.
enum ShellWords {
    /// `word` as one shell word: unchanged when it needs no quoting, else in single quotes.
    static func quoted(_ word: String) -> String {
        let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+@=:,%")
        if !word.isEmpty, word.allSatisfy({ plain.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The command line this process was started with, as `cx-server …`, minus `--data-dir` and
    /// `--database-url` options (and their values), to which a hint appends the right ones.
    static func currentCommandWithoutDatabaseOptions(_ arguments: [String] = CommandLine.arguments) -> String {
        var words = ["cx-server"]
        var skipNext = false
        for argument in arguments.dropFirst() {
            if skipNext {
                skipNext = false
                continue
            }
            if argument == "--data-dir" || argument == "--database-url" {
                skipNext = true
                continue
            }
            if argument.hasPrefix("--data-dir=") || argument.hasPrefix("--database-url=") { continue }
            words.append(quoted(argument))
        }
        return words.joined(separator: " ")
    }
}
