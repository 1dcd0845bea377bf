import Foundation
import Testing

/// Every file and directory the cache relies on is durable by name, not only by content: after
/// it is created, its parent directory is fsync'd before the command reports success. Checked
/// on the real `cx` binary with `strace` (the system calls are what matters; a power loss
/// cannot be simulated in a test).
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "needs strace"))
struct DurabilityEndToEndTests {
    /// One traced system call: its name, its first path argument (if any), the file descriptor
    /// argument or result.
    struct Call {
        var name: String
        var path: String?
        var flags: String
        var fdArgument: Int?
        var result: Int?
    }

    /// Parses `strace -f` output (lines `PID name(args) = result`, unfinished calls rejoined).
    func parse(_ text: String) -> [Call] {
        var unfinished: [String: String] = [:]
        var calls: [Call] = []
        for raw in text.split(separator: "\n").map(String.init) {
            var parts = raw.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let pid = parts[0]
            var line = parts[1].trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("<unfinished ...>") {
                unfinished[pid] = String(line.dropLast("<unfinished ...>".count))
                continue
            }
            if line.hasPrefix("<... "), let start = unfinished.removeValue(forKey: pid), let close = line.range(of: "resumed>") {
                line = start + line[close.upperBound...]
            }
            parts = [pid, line]
            guard let open = line.firstIndex(of: "(") else { continue }
            let name = String(line[..<open])
            var call = Call(name: name, path: nil, flags: line, fdArgument: nil, result: nil)
            if let quote = line.firstIndex(of: "\"") {
                let rest = line[line.index(after: quote)...]
                if let end = rest.firstIndex(of: "\"") { call.path = String(rest[..<end]) }
            }
            let arguments = line[line.index(after: open)...]
            call.fdArgument = Int(arguments.prefix { $0.isNumber })
            if let equals = line.range(of: "= ", options: .backwards) {  // strace aligns results: ")      = 0"
                call.result = Int(line[equals.upperBound...].prefix { $0.isNumber || $0 == "-" })
            }
            calls.append(call)
        }
        return calls
    }

    func parent(_ path: String) -> String {
        (path as NSString).deletingLastPathComponent
    }

    /// Whether, after call `index`, directory `directory` is opened and that descriptor fsync'd
    /// (or `fcntl(F_FULLFSYNC)`'d).
    func directorySynced(_ directory: String, after index: Int, in calls: [Call]) -> Bool {
        var open: Set<Int> = []
        for call in calls[(index + 1)...] {
            if call.name.hasPrefix("open"), call.path == directory, call.flags.contains("O_DIRECTORY"), let fd = call.result, fd >= 0 {
                open.insert(fd)
            } else if call.name == "fsync" || call.name == "fcntl" && call.flags.contains("F_FULLFSYNC"),
                      let fd = call.fdArgument, open.contains(fd), call.result == 0 {
                return true
            } else if call.name == "close", let fd = call.fdArgument {
                open.remove(fd)
            }
        }
        return false
    }

    @Test func everyNewCacheFileAndDirectoryHasItsDirectoryEntryFsynced() throws {
        let home = Home()
        _ = try home.ok("init")
        let trace = home.path + "/strace.txt"
        let run = try runProcess(
            "/usr/bin/strace",
            ["-f", "-o", trace, "-e", "trace=openat,open,mkdir,mkdirat,fsync,fcntl,close,rename,renameat,renameat2",
             try Binaries.path("cx"), "add", "--name", "Acme", "--home", home.path])
        #expect(run.status == 0, "\(run)")
        let calls = parse(try String(contentsOfFile: trace, encoding: .utf8))
        let cache = home.path + "/cache"
        var checked: [String] = []
        for (index, call) in calls.enumerated() {
            guard var path = call.path, path.hasPrefix(cache), call.result.map({ $0 >= 0 }) ?? false else { continue }
            let created: Bool
            switch call.name {
            case "mkdir", "mkdirat": created = true
            case "open", "openat": created = call.flags.contains("O_CREAT") && !path.contains(".tmp-")
            case "rename", "renameat", "renameat2":
                // The second path is the destination of an atomic replacement.
                let quoted = call.flags.split(separator: "\"", omittingEmptySubsequences: false)
                guard quoted.count >= 4 else { continue }
                path = String(quoted[3])
                created = true
            default: created = false
            }
            guard created else { continue }
            checked.append(path)
            #expect(directorySynced(parent(path), after: index, in: calls), "the entry of \(path) is never made durable")
        }
        for expected in ["/cache", "/cache/lock", "/cache/gen-00000000", "/cache/gen-00000000/journal.jsonl", "/cache/CURRENT"] {
            #expect(checked.contains(home.path + expected), "\(expected) was not created as expected: \(checked)")
        }
    }
}
