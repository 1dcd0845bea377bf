/// The faults the suite can inject, by their `--faults` names.
enum Fault: String, CaseIterable, Sendable, Comparable {
    /// `kill -9` of `cx-server` while a `cx sync` is in flight, then a restart.
    case killServer = "kill-server"
    /// `kill -9` of `cx` in the middle of a write or a sync.
    case killCx = "kill-cx"
    /// `pg_ctl stop -m fast` of the embedded PostgreSQL under the running server, then a start.
    case pgStop = "pg-stop"
    /// The proxy duplicates requests and drops answers for a while.
    case proxy
    /// A write and a sync made under `faketime` hours off.
    case clock
    /// A home copied with `cp -a`, later restored over the live one, then edited again.
    case restore
    /// A home copied to a second "laptop" that is edited too.
    case copy
    /// Two `cx sync` and an edit at once on one home.
    case concurrent

    static func < (lhs: Fault, rhs: Fault) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Everything one run needs; a run is fully determined by these values (and process timing).
struct RunConfig: Sendable {
    var seed: UInt64
    var replicas: Int
    var ops: Int
    var faults: Set<Fault>
    /// Where `cx` and `cx-server` are.
    var binDirectory: String
    /// Parent of the run's throwaway directories.
    var workDirectory: String
    /// Keep the run's directory (data dir, homes, logs) after the run.
    var keep: Bool
    var verbose: Bool
    /// Share of the writes made by the central team (SQL as `cx_editor`, ERP imports, merges);
    /// 0 leaves them out (laptops only, and no laptop merges).
    var centralShare = FaultRun.defaultCentralShare

    var central: Bool { centralShare > 0 }

    /// The command line that repeats exactly this run.
    var reproduction: String {
        let faultList = faults.isEmpty ? "none" : faults.sorted().map(\.rawValue).joined(separator: ",")
        return "swift run cx-fault --seed \(seed) --runs 1 --replicas \(replicas) --ops \(ops) --faults \(faultList)"
            + (centralShare == FaultRun.defaultCentralShare ? "" : " --central-share \(centralShare)")
    }
}

/// What one run found.
struct RunResult: Sendable {
    var seed: UInt64
    var writes = 0
    var acknowledged = 0
    /// Successful writes of the central team (SQL calls, imports); each may write several fields.
    var centralWrites = 0
    /// SQL writes refused with a documented SQLSTATE (a deleted record, a field no longer in conflict…).
    var centralRefusals = 0
    /// Merges acknowledged (`cx merge` exit 0, `cx.merge_customers` returned).
    var merges = 0
    /// Acknowledged writes to customers that ended merged, checked on their survivors.
    var checkedOnSurvivors = 0
    /// Acknowledged writes neither present, nor a conflict candidate, nor replaced by a write that saw them.
    var lost: [String] = []
    /// Acknowledged writes the server refused by the documented rules (still pending on the laptop).
    var refused: [String] = []
    /// Records that differ between a replica and the server (within the replica's scope), or
    /// between the server's typed columns and its state.
    var diverged: [String] = []
    /// Kinds of answers with a 5xx status other than 503 while the database was down.
    var badStatuses: [String] = []
    /// How many such answers in all.
    var badAnswers = 0
    /// Acknowledged writes a backup restore took back before any complete sync (not checked).
    var rolledBack = 0
    /// Answers that took longer than `FaultProxy.slowSeconds` (reported, not a violation).
    var slowAnswers: [String] = []
    /// Homes whose cache did not load (`cx status --json` failed).
    var brokenCaches: [String] = []
    /// Anything else that went wrong (no quiescence, setup trouble) — counts as a violation.
    var other: [String] = []
    /// Faults injected, by name.
    var faultCounts: [String: Int] = [:]
    var notes: [String] = []
    var seconds = 0.0

    var violations: Int { lost.count + diverged.count + badStatuses.count + brokenCaches.count + other.count }
}
