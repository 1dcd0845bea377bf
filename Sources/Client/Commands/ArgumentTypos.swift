import ArgumentParser
import CXModel

/// Finds the typos ArgumentParser reports confusingly, so `cx` can name them first:
/// `cx lst --home X` (ArgumentParser: "Unknown option '--home'") is an unknown command
/// 'lst', nearest 'list'; `cx add --nme Foo` (ArgumentParser: "Missing expected argument
/// '--name'") has an unknown option '--nme', nearest '--name'.
///
/// Only consulted after ArgumentParser refused a command line, so a valid one costs nothing.
public enum ArgumentTypos {
    /// The first typo in `arguments` (the command line without the program name) as a usage
    /// error naming the nearest valid word, or `nil` when there is none to report.
    public static func find(in arguments: [String], root: any ParsableCommand.Type) -> CXError? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let subcommands = root.configuration.subcommands
        let names = subcommands.map { $0._commandName }
        guard let command = subcommands.first(where: { $0._commandName == first }) else {
            if first == "help" { return nil }
            let message = "unknown command '\(first)'" + (nearest(first, among: names).map { "; did you mean '\($0)'?" } ?? "")
            return CXError(.usage, message, hint: "Commands: \(names.joined(separator: ", ")). `cx --help` describes them.")
        }
        return unknownOption(in: Array(arguments.dropFirst()), command: command)
    }

    /// The first `--option` of `arguments` that `command` does not have.
    static func unknownOption(in arguments: [String], command: any ParsableCommand.Type) -> CXError? {
        let options = longOptions(of: command)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" { break }
            guard argument.hasPrefix("--"), argument.count > 2 else { continue }
            let name = String(argument.dropFirst(2).prefix { $0 != "=" })
            if let takesValue = options[name] {
                // A value given separately is skipped: it may look like an option (`--tag -vip`).
                if takesValue && !argument.contains("=") { index += 1 }
                continue
            }
            if ["help", "version", "experimental-dump-help"].contains(name) { continue }
            let known = options.keys.sorted()
            let message = "unknown option '--\(name)' for `cx \(command._commandName)`"
                + (nearest(name, among: known).map { "; did you mean '--\($0)'?" } ?? "")
            return CXError(.usage, message, hint: "`cx \(command._commandName) --help` lists its options.")
        }
        return nil
    }

    /// The long option names of `command`, each with whether it takes a value, read from
    /// ArgumentParser's own description of the command (`--experimental-dump-help`).
    static func longOptions(of command: any ParsableCommand.Type) -> [String: Bool] {
        var options: [String: Bool] = [:]
        let dump = Array(command._dumpHelp().utf8)
        // {"command":{"arguments":[{"kind":"option"|"flag"|"positional","names":[{"kind":"long","name":"…"}]…}]…}…}
        try? JSONScanner.scan(dump) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                guard key == "command" else { return try scanner.skipValue() }
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    guard key == "arguments" else { return try scanner.skipValue() }
                    try scanner.array { scanner throws(JSONScanner.Failure) in
                        var kind = "", longNames: [String] = []
                        try scanner.object { scanner, key throws(JSONScanner.Failure) in
                            switch key {
                            case "kind": kind = try scanner.string()
                            case "names":
                                try scanner.array { scanner throws(JSONScanner.Failure) in
                                    var nameKind = "", name = ""
                                    try scanner.object { scanner, key throws(JSONScanner.Failure) in
                                        switch key {
                                        case "kind": nameKind = try scanner.string()
                                        case "name": name = try scanner.string()
                                        default: try scanner.skipValue()
                                        }
                                    }
                                    if nameKind == "long" { longNames.append(name) }
                                }
                            default: try scanner.skipValue()
                            }
                        }
                        for name in longNames { options[name] = kind == "option" }
                    }
                }
            }
        }
        return options
    }

    /// The candidate closest to `word` by edit distance, if it is close enough to be a typo
    /// (at most a third of the word's length, and at least 1, 2 from 5 letters on), or a
    /// candidate `word` is a prefix of.
    public static func nearest(_ word: String, among candidates: [String]) -> String? {
        let limit = Swift.max(1, Swift.min(3, word.count / 3 + (word.count >= 5 ? 1 : 0)))
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let d = distance(word, candidate)
            if d <= limit, d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        if let best { return best.name }
        if word.count >= 2 { return candidates.first { $0.hasPrefix(word) } }
        return nil
    }

    /// Damerau–Levenshtein distance (adjacent transpositions count 1: `lsit` → `list`).
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.lowercased()), y = Array(b.lowercased())
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = Swift.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    d[i][j] = Swift.min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[x.count][y.count]
    }
}
