import Foundation
import Testing

/// Issue 11, "the first hour with cx": the traps a new user falls into, on the real `cx`
/// binary without a server (server-side traps: ``FirstHourServerEndToEndTests``).
@Suite struct FirstHourEndToEndTests {
    /// A home initialised offline with one customer; returns the home and the customer's id.
    func homeWithCustomer(_ name: String = "Acme") throws -> (Home, String) {
        let home = Home()
        _ = try home.ok("init")
        return (home, try home.ok("add", "--name", name))
    }

    /// Trap 2: a negative number after an option that takes one is its value, not an option.
    @Test func negativeNumbersAreValuesNotOptions() throws {
        let (home, customer) = try homeWithCustomer()
        let purchase = try home.cx("purchase", customer, "--amount", "10", "--margin", "-0.02", "--json")
        #expect(purchase.status == 0, "\(purchase)")
        let id = try #require((try purchase.json() as? [String: Any])?["id"] as? String)
        #expect((try home.showJSON(id)["fields"] as? [String: Any])?["margin"] as? String == "-0.02")

        // The value is read and then judged on its merits, not reported missing.
        let nps = try home.cx("touch", customer, "--channel", "call", "--nps", "-1")
        #expect(nps.status == 65, "\(nps)")
        #expect(!nps.stderr.contains("Missing value"), "\(nps)")
        let wait = try home.cx("sync", "--wait", "-1")
        #expect(wait.status == 64, "\(wait)")
        #expect(wait.stderr.contains("--wait takes a number of seconds"), "\(wait)")
        let year = try home.cx("report", "--year", "-2025")
        #expect(year.status == 64, "\(year)")
        #expect(year.stderr.contains("out of range"), "\(year)")

        // A forgotten value is still a usage error naming the option.
        let forgotten = try home.cx("purchase", customer, "--amount", "10", "--margin", "--on", "2026-03-01")
        #expect(forgotten.status == 64, "\(forgotten)")
        #expect(forgotten.stderr.contains("Missing value for '--margin'"), "\(forgotten)")
    }

    /// Trap 7: the unknown word is named first, with the nearest valid one.
    @Test func typosAreNamedWithTheNearestValidWord() throws {
        let home = Home()
        _ = try home.ok("init")
        let option = try home.cx("add", "--nme", "Foo")
        #expect(option.status == 64, "\(option)")
        #expect(option.stderr.contains("unknown option '--nme' for `cx add`; did you mean '--name'?"), "\(option)")
        #expect(!option.stderr.contains("Missing expected argument"), "the unknown option comes first: \(option)")

        let command = try home.cx("lst")
        #expect(command.status == 64, "\(command)")
        #expect(command.stderr.contains("unknown command 'lst'; did you mean 'list'?"), "\(command)")
        #expect(!command.stderr.contains("Unknown option '--home'"), "\(command)")

        let sync = try home.cx("snyc", "--json")
        #expect(sync.status == 64 && sync.stderr.contains("did you mean 'sync'?"), "\(sync)")
        // Valid command lines are untouched.
        #expect(try home.cx("list").status == 0)
    }

    /// Trap 4: an empty report or list says why on stderr; stdout and the exit status stay.
    @Test func emptyHomesSaySoOnStderr() throws {
        // No home at all (a mistyped --home): an error from every command that reads the
        // cache, not an empty answer ("No conflicts.") a script would take as true.
        let missing = "/tmp/cx-e2e-missing-" + UUID().uuidString.lowercased().prefix(8)
        let reads = [
            ["report"], ["list"], ["conflicts"], ["status"], ["show", "abcdef12"], ["history", "abcdef12"],
            ["activities", "abcdef12"], ["duplicates"], ["export", "--format", "csv"], ["value"], ["cohorts"],
        ]
        for command in reads {
            let run = try runProcess(try Binaries.path("cx"), command + ["--home", missing])
            #expect(run.status == 1, "\(run)")
            #expect(run.stderr.contains("there is no cx home at \(missing)"), "\(run)")
            #expect(run.stderr.contains("cx init"), "\(run)")
            #expect(!FileManager.default.fileExists(atPath: missing), "a read creates nothing")
        }

        // A directory that was never initialised: the zero report as before, and a warning.
        let bare = Home()
        let report = try bare.cx("report", "--year", "2025", "--json")
        #expect(report.status == 0, "\(report)")
        let metrics = try #require((try report.json() as? [String: Any])?["metrics"] as? [String: Any])
        #expect(metrics["active"] as? Int == 0)
        #expect(report.stderr.contains("is not initialised"), "\(report)")
        #expect(report.stderr.contains("cx init --server URL --token TOKEN"), "\(report)")
        let list = try bare.cx("list", "--json")
        #expect(list.status == 0 && list.trimmed == "[]", "\(list)")
        #expect(list.stderr.contains("is not initialised"), "\(list)")

        // Initialised against a server but never synced: says to sync.
        let unsynced = Home()
        let port = try ServerProcess.freePort()
        let initialised = try unsynced.cx("init", "--server", "http://127.0.0.1:\(port)", "--token", "cx_" + String(repeating: "0", count: 52))
        #expect(initialised.status == 0, "\(initialised)")
        let zero = try unsynced.cx("report")
        #expect(zero.status == 0, "\(zero)")
        #expect(zero.stderr.contains("never synced"), "\(zero)")
        #expect(zero.stderr.contains("`cx sync`"), "\(zero)")

        // An offline home with customers: nothing to say.
        let (home, _) = try homeWithCustomer()
        let quiet = try home.cx("report")
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet)")
    }

    /// Trap 6: the record kind and the status `customer` no longer read alike.
    @Test func showTellsTheRecordKindFromTheStatus() throws {
        let (home, customer) = try homeWithCustomer("Customer 1")
        let shown = try home.cx("show", customer, environment: ["CX_TODAY": "2026-06-01"])
        #expect(shown.status == 0, "\(shown)")
        let lines = shown.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "Customer 1  (customer record)", "\(shown)")
        #expect(lines.contains { $0.hasPrefix("  Status today: lead (classification) — ") }, "\(shown)")
        // JSON keeps its keys and values.
        let json = try home.showJSON(customer)
        #expect(json["kind"] as? String == "customer")
    }

    /// Trap 8: two-digit and out-of-range years are refused, not read as the year 0025.
    @Test func yearsOutOfRangeAreUsageErrors() throws {
        let (home, customer) = try homeWithCustomer()
        let short = try home.cx("report", "--year", "25")
        #expect(short.status == 64, "\(short)")
        #expect(short.stderr.contains("--year 25 is out of range"), "\(short)")
        #expect(short.stderr.contains("--year 2025"), "the hint suggests the full year: \(short)")
        #expect(try home.cx("report", "--year", "2025").status == 0)
        let from = try home.cx("report", "--from", "0025-01-01", "--to", "2026-01-01")
        #expect(from.status == 64, "\(from)")
        let on = try home.cx("purchase", customer, "--amount", "10", "--on", "0025-03-01")
        #expect(on.status == 64, "\(on)")
        #expect(on.stderr.contains("out of range"), "\(on)")
    }

    /// Trap 8: importing the same file twice (e.g. after an import that looked failed) creates
    /// nothing twice; `--allow-duplicates` does.
    @Test func reImportingTheSameFileCreatesNoDuplicates() throws {
        let home = Home()
        _ = try home.ok("init")
        let file = home.path + "/customers.csv"
        try "name,city,tags\nBistro Lyon,Lyon,food;vip\nAcme,Berlin,\n".write(toFile: file, atomically: true, encoding: .utf8)
        let first = try home.cx("import", file, "--json")
        #expect(first.status == 0, "\(first)")
        #expect((try first.json() as? [String: Any])?["created"] as? Int == 2)

        // Someone edits an imported customer meanwhile; the re-run still matches it.
        let list = try #require(try home.cx("list", "--json").json() as? [[String: Any]])
        let acme = try #require(list.first { ($0["fields"] as? [String: String])?["name"] == "Acme" }?["id"] as? String)
        _ = try home.ok("edit", acme, "--phone", "555-0101")

        let again = try home.cx("import", file, "--json")
        #expect(again.status == 0, "\(again)")
        let counts = try #require(try again.json() as? [String: Any])
        #expect(counts["created"] as? Int == 0, "\(again)")
        #expect(counts["unchanged"] as? Int == 2, "\(again)")
        #expect(again.stderr.contains("customers.csv:2: same as the existing customer Bistro Lyon"), "\(again)")
        #expect(again.stderr.contains("--allow-duplicates"), "\(again)")
        #expect(try #require(try home.cx("list", "--json").json() as? [[String: Any]]).count == 2)

        let forced = try home.cx("import", file, "--allow-duplicates", "--json")
        #expect((try forced.json() as? [String: Any])?["created"] as? Int == 2, "\(forced)")
        #expect(try #require(try home.cx("list", "--json").json() as? [[String: Any]]).count == 4)
    }

    /// Trap 5: with nothing listening, `cx sync` gives up in about 2 s (it took ~14 s), says
    /// nothing while retrying when stderr is not a terminal, and `--retry-for`/`CX_RETRY_FOR`
    /// set the total wait; `cx history` offline does not talk about local changes.
    @Test func anUnreachableServerIsGivenUpOnQuicklyAndVisibly() throws {
        let home = Home()
        let port = try ServerProcess.freePort()
        _ = try home.cx("init", "--server", "http://127.0.0.1:\(port)", "--token", "cx_" + String(repeating: "0", count: 52))
        _ = try home.ok("add", "--name", "Offline Ltd")

        var started = Date()
        let sync = try home.cx("sync")
        let quick = Date().timeIntervalSince(started)
        #expect(sync.status == 69, "\(sync)")
        // About 2 s; 10 s leaves room for a loaded machine (it took ~14 s: 4 connect timeouts).
        #expect(quick < 10, "a refused connection gives up in about 2 s, took \(quick) s")
        #expect(sync.stderr.contains("connection refused (4 attempts"), "\(sync)")
        #expect(sync.stderr.contains("is cx-server running?"), "\(sync)")
        #expect(sync.stderr.contains("Local changes are kept"), "\(sync)")
        #expect(!sync.stderr.contains("retrying"), "no progress when stderr is not a terminal: \(sync)")

        let once = try home.cx("sync", "--retry-for", "0")
        #expect(once.status == 69 && !once.stderr.contains("attempts"), "\(once)")

        started = Date()
        let patient = try home.cx("sync", environment: ["CX_RETRY_FOR": "3"])
        let waited = Date().timeIntervalSince(started)
        #expect(patient.status == 69, "\(patient)")
        #expect(waited >= 1.5 && waited < 12, "CX_RETRY_FOR=3 retries for about 3 s, took \(waited) s")

        let history = try home.cx("history", "3f2a9c1e-0000-4000-8000-000000000001")
        #expect(history.status == 69, "\(history)")
        #expect(!history.stderr.contains("Local changes are kept"), "a read has no local changes to keep: \(history)")
        #expect(history.stderr.contains("Nothing was changed"), "\(history)")
        #expect(history.stderr.contains("cx history 3f2a9c1e-0000-4000-8000-000000000001"), "\(history)")
    }

    /// Trap 5: on a terminal, each retry is shown on stderr.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func retriesAreShownOnATerminal() throws {
        let home = Home()
        let port = try ServerProcess.freePort()
        _ = try home.cx("init", "--server", "http://127.0.0.1:\(port)", "--token", "cx_" + String(repeating: "0", count: 52))
        let command = "'\(try Binaries.path("cx"))' sync --home '\(home.path)'"
        // `script` gives the command a pseudo-terminal; its output is the terminal's.
        let run = try runProcess("/usr/bin/script", ["-qefc", command, "/dev/null"])
        #expect(run.stdout.contains("cannot reach http://127.0.0.1:\(port) (connection refused); retrying in 0.2 s (attempt 2 of 4)"), "\(run)")
        #expect(run.stdout.contains("retrying in 1 s (attempt 4 of 4)"), "\(run)")
    }
}
