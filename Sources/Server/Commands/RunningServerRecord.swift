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

/// A note a running `cx-server serve` leaves in the user's state directory, so that admin
/// commands run next to it (`cx-server user add …` without `--data-dir`) find its database
/// instead of looking at the default data directory.
///
/// One small file per serving process, `$XDG_STATE_HOME/cx-server/running/PID` (by default
/// `~/.local/state/cx-server/running/PID`), removed when `serve` exits; a file whose process is
/// gone (after `kill -9`) is ignored and deleted by the next reader. It holds no secret: the data
/// directory of an embedded cluster, or only the fact that the database is external (a URL may
/// carry a password). Nothing is recorded when there is no home directory (e.g. under systemd
/// without `HOME`).
struct RunningServerRecord: Sendable, Equatable {
    /// The `serve` process.
    let pid: Int32
    /// Where the server listens, e.g. `http://127.0.0.1:8080`.
    let url: String
    /// The embedded cluster's data directory (absolute), or `nil` for an external PostgreSQL.
    let dataDirectory: String?

    /// `$XDG_STATE_HOME/cx-server/running`, or `$HOME/.local/state/cx-server/running`; `nil`
    /// without either variable.
    static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/cx-server/running" }
        if let home = environment["HOME"], home.hasPrefix("/") { return home + "/.local/state/cx-server/running" }
        return nil
    }

    /// The file's text: `key=value` lines.
    var text: String {
        var lines = ["pid=\(pid)", "url=\(url)"]
        if let dataDirectory { lines.append("data_dir=\(dataDirectory)") } else { lines.append("database=external") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses a record file's text; `nil` if it is not one.
    init?(text: String) {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let pid = values["pid"].flatMap({ Int32($0) }), pid > 0, let url = values["url"] else { return nil }
        self.init(pid: pid, url: url, dataDirectory: values["data_dir"])
    }

    init(pid: Int32, url: String, dataDirectory: String?) {
        self.pid = pid
        self.url = url
        self.dataDirectory = dataDirectory
    }

    /// Writes the record for this process; returns the file to remove at exit, or `nil` if
    /// there is nowhere to write it (which only makes the server harder to find, so it is not
    /// an error).
    func write(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let directory = Self.directory(environment: environment) else { return nil }
        let path = directory + "/\(pid)"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            return path
        } catch {
            return nil
        }
    }

    /// The servers running now, per the records in the state directory (stale records removed).
    static func running(environment: [String: String] = ProcessInfo.processInfo.environment) -> [RunningServerRecord] {
        guard let directory = directory(environment: environment),
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory)
        else { return [] }
        var records: [RunningServerRecord] = []
        for name in names.sorted() {
            let path = directory + "/" + name
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), let record = RunningServerRecord(text: text) else {
                continue
            }
            if kill(record.pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: path)
                continue
            }
            records.append(record)
        }
        return records
    }
}
