import Foundation

/// A user's scope as the server enforces it (docs/security.md).
struct Scope: Sendable, CustomStringConvertible {
    var role: String
    /// Territories held; ignored for admins (they see everything).
    var territories: [String]

    var isAdmin: Bool { role == "admin" }

    /// Whether a customer with this displayed territory is visible.
    func sees(territory: String?) -> Bool {
        isAdmin || territory.map(territories.contains) == true
    }

    var description: String { isAdmin ? "admin" : "\(role) of \(territories.joined(separator: ","))" }
}

/// One `cx` home (a "laptop"): runs `cx` commands on it, optionally killed after a delay or
/// under a shifted clock.
struct ReplicaDriver: Sendable {
    /// Name in reports (`rep-n`, `rep-n+copy`).
    var name: String
    var user: String
    var scope: Scope
    var home: String
    let cxBinary: String
    let shell: Shell
    /// States per sync request (`CX_SYNC_BATCH`), small so that a sync of a handful of
    /// offline edits takes several requests and pushes ahead of their answers
    /// (docs/sync-protocol.md §4c) under every fault; `nil` keeps cx's 1000.
    var syncBatch: Int? = nil
    /// The journal size past which every command compacts (`CX_COMPACTION_THRESHOLD`), tiny so
    /// that writes compact and syncs fold their journal mid-way (leaving the book to the sync's
    /// end) under every fault, kills included; `nil` keeps cx's 8 MB.
    var compactionThreshold: Int? = nil

    /// Runs `cx SUBCOMMAND --home HOME ARGS…`. `killAfter` sends SIGKILL after that many
    /// seconds if it is still running; `clockOffset` (e.g. `+5h`) runs it under `faketime`.
    func cx(_ subcommand: String, _ arguments: [String], killAfter: Double? = nil, clockOffset: String? = nil)
        -> CommandResult
    {
        let words = [subcommand, "--home", home] + arguments
        var environment: [String: String] = [:]
        if subcommand == "sync", let syncBatch { environment["CX_SYNC_BATCH"] = String(syncBatch) }
        if let compactionThreshold { environment["CX_COMPACTION_THRESHOLD"] = String(compactionThreshold) }
        if let clockOffset, let faketime = Shell.which("faketime") {
            // Only the wall clock is off (a laptop's clock), not the monotonic clock: faking
            // that too can hang a multi-threaded program inside libfaketime.
            environment["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
            environment["DONT_FAKE_MONOTONIC"] = "1"
            return shell.run(faketime, ["-f", clockOffset, cxBinary] + words, environment: environment, killAfter: killAfter, timeout: 60)
        }
        return shell.run(cxBinary, words, environment: environment, killAfter: killAfter)
    }

    /// The customers this home shows (`cx list --json`, deleted ones too if asked).
    func customers(includeDeleted: Bool = false) -> [[String: Any]]? {
        let result = cx("list", ["--json"] + (includeDeleted ? ["--deleted"] : []))
        guard result.succeeded else { return nil }
        return JSON.array(result.stdout)
    }

    /// The activities of one customer, deleted ones included.
    func activities(of customer: String) -> [[String: Any]]? {
        let result = cx("activities", [customer, "--deleted", "--json"])
        guard result.succeeded else { return nil }
        return JSON.array(result.stdout)
    }

    /// Every record this home shows, customers and their activities, by id.
    func allRecords() -> [String: [String: Any]]? {
        guard let customers = customers(includeDeleted: true) else { return nil }
        var records: [String: [String: Any]] = [:]
        for customer in customers {
            guard let id = customer["id"] as? String else { continue }
            records[id] = customer
            guard let activities = activities(of: id) else { return nil }
            for activity in activities {
                if let activityId = activity["id"] as? String { records[activityId] = activity }
            }
        }
        return records
    }
}

/// Small helpers over JSONSerialization (the suite reads `cx`'s documented JSON shapes).
enum JSON {
    static func object(_ text: String) -> [String: Any]? {
        guard let data = text.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    static func array(_ text: String) -> [[String: Any]]? {
        guard let data = text.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]]
    }

    /// Canonical text (sorted keys) of a JSON value, for comparisons and diffs.
    static func canonical(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A displayed value as text (numbers and booleans too), nil for null/absent.
    static func text(_ value: Any?) -> String? {
        switch value {
        case let string as String: return string
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }
}
