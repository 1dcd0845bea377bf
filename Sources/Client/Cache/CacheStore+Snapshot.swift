import CXModel

extension CacheStore {
    /// Whether a snapshot pull may fill this cache (docs/sync-protocol.md §2a): it holds no
    /// record, neither in its tables nor in its journal, and no rescope is under way. What the
    /// journal holds besides (the incarnation, a cursor of a sync that found nothing) is
    /// replaced or kept by ``install(_:cursor:scope:)``.
    var holdsNoRecords: Bool {
        (customers?.count ?? 0) == 0 && (activities?.count ?? 0) == 0 && journal.puts.isEmpty && journal.dropped.isEmpty
            && !isRescoping
    }

    /// Makes the tables `snapshot` wrote this cache's next generation, at `cursor` (the
    /// regular cursor of the snapshot's last page) and `scope`; `false` (and the snapshot
    /// discarded) when the cache changed meanwhile in a way the tables cannot take.
    ///
    /// Records written by other commands during the pull (a `cx add` while the first sync runs)
    /// go to the new generation's journal, as they are — unless one of them is also in the
    /// snapshot, whose state would then have to be merged in: the snapshot is dropped and the
    /// sync pulls the regular way. The switch is a compaction's (``compact(writingBook:)``):
    /// the generation is complete and durable before `CURRENT` names it.
    func install(_ snapshot: SnapshotWriter, cursor: String, scope: SyncScope?) throws -> Bool {
        guard isExclusive, let oldDirectory = generationDirectory else { return false }
        let table = { (kind: RecordKind) throws -> SnapshotTable in
            try SnapshotTable(directory: snapshot.directory, name: kind == .customer ? "customers" : "activities")
        }
        let (newCustomers, newActivities) = (try table(.customer), try table(.activity))
        let clashes = try journal.puts.contains { id, put in
            try (put.kind == .customer ? newCustomers : newActivities).find(id) != nil
        }
        guard (customers?.count ?? 0) == 0, (activities?.count ?? 0) == 0, journal.dropped.isEmpty, !isRescoping, !clashes else {
            snapshot.discard()
            return false
        }
        let generation = meta.generation + 1
        let name = Self.generationName(generation)
        let newDirectory = directory + "/" + name
        POSIX.removeTree(newDirectory)
        try POSIX.move(snapshot.directory, to: newDirectory)

        // Other commands' records: re-written as puts, without the journal's cursor, scope and
        // sync marks, which the snapshot's replace.
        let journalWriter = try BufferedWriter(path: newDirectory + "/journal.jsonl")
        for (id, put) in journal.puts.sorted(by: { $0.key < $1.key }) {
            try journalWriter.write(Journal.putLine(
                id: id, kind: put.kind, pending: journal.pending[id] ?? put.pending, conflicted: put.conflicted, deleted: put.deleted,
                customerID: put.customerID, state: Array(journal.stateBytes(put)), view: journal.viewBytes(put).map { Array($0) }))
        }
        try journalWriter.finish()
        try CacheCompactor.writeIDList([], to: newDirectory + "/pending.txt")
        try CacheCompactor.writeIDList(snapshot.conflicted.sorted(), to: newDirectory + "/conflicted.txt")

        var newMeta = SnapshotMeta()
        newMeta.generation = generation
        newMeta.customers = snapshot.customerCount
        newMeta.activities = snapshot.activityCount
        newMeta.cursor = cursor
        newMeta.lastSync = lastSync
        newMeta.scope = scope.map { SyncScope(role: $0.role, territories: $0.territories) }
        newMeta.rescoping = false
        newMeta.replica = replica
        try switchGeneration(to: newDirectory, named: name, meta: newMeta, from: oldDirectory)
        return true
    }
}
