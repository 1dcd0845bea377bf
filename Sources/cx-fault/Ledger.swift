/// One write the suite asked `cx` (or the central team: SQL, an ERP import) to make: a field
/// value (`<null>` for a value cleared), a tag added or removed, a delete, the `keep` of a
/// delete/edit conflict, or a merge (`deleted` = `merge:KEEP` on the dropped customer).
struct Write: Sendable {
    /// Sequence number in the run (also the write's identity in knowledge sets).
    var id: Int
    /// The replica (home) that made it.
    var replica: String
    /// Full record id.
    var record: String
    /// A schema field (`phone`), `tag:NAME` for a tag, or `deleted` for a delete (`delete`), a
    /// conflict kept (`keep`) or a merge into another customer (`merge:KEEP`).
    var field: String
    var value: String
    /// The command line, for messages.
    var command: String
    /// `cx` exited 0: the user was told the write is saved.
    var acknowledged: Bool
    /// Ids of every write the replica may have seen when it made this one (its own earlier
    /// writes, and whatever any sync — even a failed or killed one — may have brought). An
    /// over-approximation on purpose: a write may only be excused by a later write that could
    /// have seen it, so over-approximating never produces a false "lost".
    var possiblySaw: Set<Int>
    /// Step of the run it was made at.
    var step: Int
    /// The value of a write that cleared its field (SQL `NULL`).
    static let cleared = "<null>"
    /// Made under a shifted clock (`faketime`), restored home, copied home…: notes for reports.
    var circumstances: [String]
}

/// Every write of a run, and what each replica and the server may have seen.
///
/// Knowledge moves only along the paths data moves: a write is seen by its replica; a sync
/// (attempted, whatever its outcome) may carry everything the replica has seen to the server
/// and everything the server has to the replica; `cp -a` of a home carries the replica's
/// knowledge to the copy. Everything is kept as "possibly seen", never "definitely".
struct Ledger: Sendable {
    private(set) var writes: [Write] = []
    private(set) var serverSeen: Set<Int> = []
    private(set) var replicaSeen: [String: Set<Int>] = [:]

    /// Records a write that may have happened (acknowledged, or killed before it answered).
    mutating func record(
        replica: String, record: String, field: String, value: String, command: String,
        acknowledged: Bool, step: Int, circumstances: [String]
    ) {
        let id = writes.count + 1
        let seen = replicaSeen[replica, default: []]
        writes.append(
            Write(
                id: id, replica: replica, record: record, field: field, value: value, command: command,
                acknowledged: acknowledged, possiblySaw: seen, step: step, circumstances: circumstances))
        replicaSeen[replica, default: []].insert(id)
    }

    /// Records a write the central team made on the server itself (an SQL call as `cx_editor`,
    /// a `cx-server import`, an SQL merge): `writer` (`sql:erin`, `import`) saw whatever the
    /// server may hold now, and the server holds the write at once.
    mutating func recordCentral(
        writer: String, record: String, field: String, value: String, command: String, step: Int,
        circumstances: [String]
    ) {
        replicaSeen[writer, default: []].formUnion(serverSeen)
        self.record(
            replica: writer, record: record, field: field, value: value, command: command, acknowledged: true,
            step: step, circumstances: circumstances)
        serverSeen.insert(writes.count)
    }

    /// Records the writes `replica`'s sync made to repair crossed merges (the sync reported them):
    /// the survivor restored (`deleted` = `keep`, its pointer cleared) and the `fields` it took
    /// from the cycle's other customers. Not checked themselves (their values are the sync's
    /// choice), they replace the writes they could have seen, like any later write.
    mutating func recordRepair(replica: String, survivor: String, fields: [String], step: Int) {
        recordRedirect(replica: replica, record: survivor, fields: ["deleted", "extra.merged_into"] + fields, step: step)
    }

    /// Records the writes a sync of `replica` reported making itself while redirecting a merged
    /// duplicate's late edits (or a repair of crossed merges): `fields` of `record`. Not checked
    /// themselves, they replace the writes they could have seen, like any later write.
    mutating func recordRedirect(replica: String, record: String, fields: [String], step: Int) {
        for field in fields {
            self.record(
                replica: replica, record: record, field: field, value: field == "deleted" ? "keep" : "(sync redirect)",
                command: "cx sync (redirect after a merge)", acknowledged: false, step: step, circumstances: ["sync redirect"])
        }
    }

    /// The survivors a merge write named for `record` (`deleted` = `merge:KEEP`), in order.
    func mergeTargets(of record: String) -> [String] {
        writes.filter { $0.record == record && $0.field == "deleted" && $0.value.hasPrefix(Ledger.mergePrefix) }
            .map { String($0.value.dropFirst(Ledger.mergePrefix.count)) }
    }

    /// The value of a merge's `deleted` write: `merge:` and the survivor's id.
    static let mergePrefix = "merge:"

    /// A sync of `replica` was attempted: knowledge may have flowed both ways.
    mutating func synced(_ replica: String) {
        let mine = replicaSeen[replica, default: []]
        serverSeen.formUnion(mine)
        replicaSeen[replica] = mine.union(serverSeen)
    }

    /// `cp -a` of a home: the copy knows what the original knew.
    mutating func copied(from source: String, to copy: String) {
        replicaSeen[copy] = replicaSeen[source, default: []]
    }

    /// Writes a backup restore took back before any complete sync had pushed them: gone with
    /// the laptop's state by the user's own doing, not lost by cx. Excluded from the checks.
    private(set) var rolledBack: Set<Int> = []
    /// Per replica, the write count at each complete sync (`cx sync` exit 0 or 3).
    private(set) var completeSyncs: [String: [Int]] = [:]

    /// A sync of `replica` finished completely: every write so far was pushed.
    mutating func completedSync(_ replica: String) {
        completeSyncs[replica, default: []].append(writes.count)
    }

    /// The write count now (a mark for snapshots and restores).
    var mark: Int { writes.count }

    /// `replica`'s home was restored from a copy taken at `snapshotMark`: its writes made after
    /// that copy and not followed by a complete sync are gone from the laptop.
    mutating func restored(_ replica: String, snapshotMark: Int) {
        let syncs = completeSyncs[replica, default: []]
        for write in writes where write.replica == replica && write.id > snapshotMark {
            if !syncs.contains(where: { $0 >= write.id }) { rolledBack.insert(write.id) }
        }
    }

    /// Writes of one record, in order.
    func writes(of record: String) -> [Write] {
        writes.filter { $0.record == record }
    }
}
