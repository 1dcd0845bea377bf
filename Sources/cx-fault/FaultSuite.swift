import ArgumentParser
import Foundation

/// `cx-fault`: the fault-injection convergence suite. Drives the real `cx` and `cx-server`
/// binaries through seeded random edits, syncs and faults, then checks that every replica
/// converged and that no acknowledged write was lost (docs/reliability.md).
@main
struct FaultSuite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cx-fault",
        abstract: "Fault-injection convergence suite for cx and cx-server.",
        discussion: """
            Each run starts cx-server on a throwaway data directory (embedded PostgreSQL), a proxy \
            that can duplicate requests and drop answers, and several cx homes (an admin, reps, a \
            manager). It makes random writes and syncs — the laptops', and the central team's: SQL \
            as cx_editor, ERP imports, duplicate merges — injects the chosen faults, then syncs every \
            home until quiet and checks: every home shows the server's records of its scope, the \
            server's typed columns match its state, no acknowledged write is lost, every cache \
            loads, no 5xx but 503 while the database is down. Run i uses seed SEED+i; a failure \
            prints the line that repeats it.

            Examples:
              swift run cx-fault                       # the bounded CI configuration
              swift run cx-fault --seed 42 --runs 1 --faults restore,copy -v
              swift run cx-fault --long                # 200 runs
              swift run cx-fault --central-share 0.6   # mostly the central team's writes
              swift run cx-fault --central-share 0     # laptops only
            """)

    @Option(help: "Seed of the first run (default: from the time; always printed).")
    var seed: UInt64?

    @Option(help: "Number of runs (each with seed SEED+i).")
    var runs = 5

    @Flag(help: "A long run: 200 runs, 8 replicas-worth of users, 120 operations each.")
    var long = false

    @Option(help: "Homes at the start (2–7: admin, rep-n, rep-s, mgr, rep-e, rep-n2, mgr-se).")
    var replicas = 4

    @Option(help: "Random operations (writes, syncs, faults) per run.")
    var ops = 60

    @Option(
        help: "Faults to inject, comma-separated: \(Fault.allCases.map(\.rawValue).joined(separator: ",")), all or none.")
    var faults = "all"

    @Option(
        help: "Share of the writes made by the central team (SQL as cx_editor, ERP imports, merges), 0–1; 0 leaves them (and laptop merges) out.")
    var centralShare = FaultRun.defaultCentralShare

    @Option(help: "Directory holding cx and cx-server (default: .build/debug of the current directory).")
    var binDir: String?

    @Option(help: "Directory for the runs' throwaway data (default: a new directory under /tmp).")
    var workDir: String?

    @Flag(help: "Keep each run's data directory, homes and logs.")
    var keep = false

    @Flag(name: .shortAndLong, help: "Log every command and fault to stderr.")
    var verbose = false

    func validate() throws {
        if !(2...7).contains(replicas) { throw ValidationError("--replicas must be 2–7") }
        if runs < 1 || ops < 1 { throw ValidationError("--runs and --ops must be at least 1") }
        if !(0...1).contains(centralShare) { throw ValidationError("--central-share must be between 0 and 1") }
        _ = try parseFaults()
    }

    private func parseFaults() throws -> Set<Fault> {
        switch faults {
        case "all": return Set(Fault.allCases)
        case "none", "": return []
        default:
            return try Set(
                faults.split(separator: ",").map { name in
                    guard let fault = Fault(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                        throw ValidationError("unknown fault '\(name)'; known: \(Fault.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return fault
                })
        }
    }

    func run() throws {
        Cleanup.install()
        let firstSeed = seed ?? UInt64(Date().timeIntervalSince1970 * 1000) % 1_000_000
        let runCount = long ? max(runs, 200) : runs
        let opCount = long ? max(ops, 120) : ops
        let binDirectory = binDir ?? FileManager.default.currentDirectoryPath + "/.build/debug"
        for binary in ["cx", "cx-server"] where !FileManager.default.isExecutableFile(atPath: "\(binDirectory)/\(binary)") {
            throw ValidationError("\(binDirectory)/\(binary) not found: run `swift build` first or pass --bin-dir")
        }
        let work = workDir ?? "/tmp/cx-fault-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let faultSet = try parseFaults()
        say("cx-fault: seed=\(firstSeed) runs=\(runCount) replicas=\(replicas) ops=\(opCount) faults=\(faultSet.isEmpty ? "none" : faultSet.sorted().map(\.rawValue).joined(separator: ",")) central-share=\(centralShare)")
        if faultSet.contains(.clock) && Shell.which("faketime") == nil {
            say("note: faketime is not installed; the clock fault will be skipped (apt-get install -y faketime)")
        }

        var totals = RunResult(seed: firstSeed)
        var failing: [String] = []
        for index in 0..<runCount {
            let config = RunConfig(
                seed: firstSeed + UInt64(index), replicas: replicas, ops: opCount, faults: faultSet,
                binDirectory: binDirectory, workDirectory: work, keep: keep, verbose: verbose, centralShare: centralShare)
            let result: RunResult
            do {
                result = try FaultRun(config: config).execute()
            } catch {
                var failed = RunResult(seed: config.seed)
                failed.other.append("setup failed: \(error)")
                result = failed
            }
            Report.printRun(result, config: config)
            totals.writes += result.writes
            totals.acknowledged += result.acknowledged
            totals.centralWrites += result.centralWrites
            totals.centralRefusals += result.centralRefusals
            totals.merges += result.merges
            totals.checkedOnSurvivors += result.checkedOnSurvivors
            totals.lost += result.lost
            totals.refused += result.refused
            totals.diverged += result.diverged
            totals.badStatuses += result.badStatuses
            totals.badAnswers += result.badAnswers
            totals.slowAnswers += result.slowAnswers
            totals.brokenCaches += result.brokenCaches
            totals.other += result.other
            if result.violations > 0 { failing.append(config.reproduction) }
        }
        if !keep { try? FileManager.default.removeItem(atPath: work) }
        say(
            "runs=\(runCount) writes=\(totals.writes) acknowledged=\(totals.acknowledged) central=\(totals.centralWrites) "
                + "merges=\(totals.merges) on_survivors=\(totals.checkedOnSurvivors) central_refused=\(totals.centralRefusals) lost=\(totals.lost.count) "
                + "refused=\(totals.refused.count) diverged=\(totals.diverged.count) bad5xx=\(totals.badAnswers) "
                + "broken_caches=\(totals.brokenCaches.count) other=\(totals.other.count) slow=\(totals.slowAnswers.count) "
                + "failing_runs=\(failing.count)")
        if !failing.isEmpty {
            say("reproduce the failing runs with:")
            for line in failing { say("  \(line)") }
            throw ExitCode(1)
        }
    }
}
