import Foundation

/// Writes a line to stdout at once (unbuffered, so CI logs show progress as it happens).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Printing one run's findings: a summary line, then every violation with its reproduction line.
enum Report {
    /// How many findings of each kind are printed in full (the counts are always complete).
    static let detailLimit = 12

    static func printRun(_ result: RunResult, config: RunConfig) {
        let faults = result.faultCounts.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        say(
            "run seed=\(result.seed) writes=\(result.writes) acknowledged=\(result.acknowledged) "
                + "central=\(result.centralWrites) merges=\(result.merges) "
                + "lost=\(result.lost.count) refused=\(result.refused.count) diverged=\(result.diverged.count) "
                + "bad5xx=\(result.badAnswers) broken_caches=\(result.brokenCaches.count) "
                + "other=\(result.other.count) faults={\(faults)} "
                + "time=\(Int(result.seconds))s \(result.violations == 0 ? "OK" : "FAIL")")
        for note in result.notes { say("  note: \(note)") }
        if result.checkedOnSurvivors > 0 || result.centralRefusals > 0 {
            say("  note: \(result.checkedOnSurvivors) writes to merged customers checked on their survivors; \(result.centralRefusals) SQL writes refused as documented")
        }
        if result.rolledBack > 0 {
            say("  note: \(result.rolledBack) writes were taken back by a backup restore before any complete sync (not checked)")
        }
        section("LOST (acknowledged write missing)", result.lost)
        section("DIVERGED", result.diverged)
        section("5xx", result.badStatuses)
        section("BROKEN CACHE", result.brokenCaches)
        section("OTHER", result.other)
        if !result.slowAnswers.isEmpty {
            say("  slow answers (not a violation; the server should fail fast): \(result.slowAnswers.count)")
            for item in result.slowAnswers.prefix(detailLimit) { say("    - \(item)") }
        }
        if !result.refused.isEmpty {
            say("  refused by the server (documented, pending on the laptop, not lost): \(result.refused.count)")
            if config.verbose { for item in result.refused.prefix(detailLimit) { say("    - \(item)") } }
        }
        if result.violations > 0 { say("  reproduce: \(config.reproduction)") }
    }

    private static func section(_ title: String, _ items: [String]) {
        guard !items.isEmpty else { return }
        say("  \(title): \(items.count)")
        for item in items.prefix(detailLimit) { say("    - \(item)") }
        if items.count > detailLimit { say("    … \(items.count - detailLimit) more") }
    }
}
