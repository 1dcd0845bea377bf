import CXModel

/// The local cache: sorted snapshot files per kind plus an append-only journal, inside a
/// generation directory named by `CURRENT` (see docs/cache-format.md).
///
/// Open it with ``open(directory:exclusive:)``: readers take the lock file shared, writers
/// exclusive, and hold it until ``close()``. Every write is appended to the journal and fsync'd
/// before the call returns; ``compact()`` folds the journal into a new generation and switches
/// `CURRENT` atomically, so a crash at any instant leaves the old or the new state.
///
/// The type is spread over files by job: this one opens, loads and writes (the journal);
/// `CacheStore+Reading.swift` answers every read through one lookup path (journal over snapshot,
/// minus drops); `CacheStore+Compaction.swift` switches generations, with ``CacheCompactor``
/// writing the new one.
public final class CacheStore {
    /// A record state to write, and whether it holds local edits not yet pushed.
    public struct Change {
        public var state: RecordState {
            didSet { encoded = nil }
        }
        public var pending: Bool {
            didSet { encoded = nil }
        }
        /// What ``commit(_:acks:drops:cursor:resetsCursor:scope:rescoping:synced:replica:)``
        /// writes for this change, when it was worked out ahead (``EncodedPut``); `nil` once
        /// the state or the pending mark changes.
        private(set) var encoded: EncodedPut?

        public init(state: RecordState, pending: Bool) {
            self.state = state
            self.pending = pending
        }

        /// A state written as it was encoded ahead, off the thread that commits it.
        init(_ encoded: EncodedPut) {
            state = encoded.state
            pending = encoded.pending
            self.encoded = encoded
        }
    }

    /// Journal size above which writers fold it into a new snapshot.
    public static let defaultCompactionThreshold = 8 << 20

    public let directory: String
    public let isExclusive: Bool
    private var lock: FileLock?
    private(set) var generationDirectory: String?
    private(set) var meta = SnapshotMeta()
    private(set) var customers: SnapshotTable?
    private(set) var activities: SnapshotTable?
    private(set) var byCustomer: ByCustomerIndex?
    private(set) var journal = Journal()
    /// The open journal (writers only); closed by compaction before the old generation goes.
    var journalFile: FileHandle?
    /// The snapshot's `pending.txt` and `conflicted.txt`, read on first use (see `+Reading`).
    var snapshotPending: Set<String>?
    var snapshotConflicted: Set<String>?
    /// The ``InsightFacts`` lines of the journal puts this process wrote, so compaction need not
    /// decode those states again to write the new generation's facts files.
    private(set) var committedFacts: [String: [UInt8]] = [:]
    /// The records this process committed since the journal last held another process's lines
    /// (``WrittenRecord``); kept across its own compactions, which move records but change none.
    /// At most ``writtenRecordsLimit`` of them: a sync that touches more redirects without them
    /// (``TouchedRecords``).
    private(set) var writtenRecords: [String: WrittenRecord] = [:]
    /// The most ``writtenRecords`` kept (≈ 6 MB by default).
    var writtenRecordsLimit = 50_000

    private init(directory: String, exclusive: Bool) {
        self.directory = directory
        self.isExclusive = exclusive
    }

    /// Warnings gathered while loading (unreadable journal lines).
    public var warnings: [String] { journal.warnings }

    /// Opens the cache in `directory`, creating it for writers.
    public static func open(directory: String, exclusive: Bool) throws -> CacheStore {
        let store = CacheStore(directory: directory, exclusive: exclusive)
        if exclusive {
            try POSIX.makeDirectories(directory)
        } else if !POSIX.exists(directory) {
            return store
        }
        store.lock = try FileLock(path: directory + "/lock", exclusive: exclusive)
        try store.load()
        return store
    }

    /// Releases the lock. The store must not be used afterwards.
    public func close() {
        journalFile?.close()
        journalFile = nil
        lock?.release()
        lock = nil
    }

    deinit { close() }

    /// Releases the lock but keeps what was loaded, so that ``resume()`` need not read the
    /// journal again (a long sync releases the cache during every round trip). The store must
    /// not be used until ``resume()``.
    public func suspend() {
        lock?.release()
        lock = nil
    }

    /// Takes the lock again after ``suspend()`` and catches up with what other processes
    /// wrote meanwhile: only the lines appended to the journal while it is still the one
    /// loaded; a full load when the generation changed (a compaction) or the cache was replaced.
    public func resume() throws {
        guard lock == nil else { return }
        lock = try FileLock(path: directory + "/lock", exclusive: isExclusive)
        if try !catchUpWithJournal() {
            journalFile?.close()
            journalFile = nil
            try load()
        }
    }

    /// Applies the journal lines other processes appended since this store last read or wrote
    /// it; `false` when the journal open here is no longer the current generation's file.
    private func catchUpWithJournal() throws -> Bool {
        guard isExclusive, let journalFile, let generationDirectory, let current = try currentGenerationName(),
            directory + "/" + current == generationDirectory, journalFile.isSameFile(as: journalFile.path)
        else { return false }
        let size = try journalFile.size()
        guard size >= journal.validLength else { return false }
        guard size > journal.validLength else { return true }
        journal.appendWritten(try journalFile.read(size - journal.validLength, at: journal.validLength))
        // Another process may have replaced states this one wrote: their facts are stale.
        committedFacts = [:]
        writtenRecords = [:]
        if journal.validLength < size {
            // A torn tail from a writer that crashed meanwhile: cut it, as a load would.
            try journalFile.truncate(to: journal.validLength)
            try journalFile.sync()
        }
        return true
    }

    /// The directory name of generation `number` (`gen-00000007`).
    static func generationName(_ number: Int) -> String {
        let digits = String(number)
        return "gen-" + String(repeating: "0", count: Swift.max(0, 8 - digits.count)) + digits
    }

    /// The generation `CURRENT` names (`nil` when there is no `CURRENT`).
    private func currentGenerationName() throws(IOError) -> String? {
        try POSIX.readFile(directory + "/CURRENT").map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: " \n") }
    }

    /// Loads the generation `CURRENT` names (a writer creates an empty first one), its snapshot
    /// tables and its journal.
    func load() throws {
        let currentPath = directory + "/CURRENT"
        var name = try currentGenerationName()
        if name == nil || name!.isEmpty {
            guard isExclusive else { return }
            name = Self.generationName(0)
            let dir = directory + "/" + name!
            POSIX.removeTree(dir)
            try POSIX.makeDirectories(dir)
            try POSIX.writeAtomically(SnapshotMeta().jsonBytes(), to: dir + "/meta.json")
            try POSIX.writeAtomically(Array((name! + "\n").utf8), to: currentPath)
        }
        let dir = directory + "/" + name!
        generationDirectory = dir
        meta = try SnapshotMeta.load(dir + "/meta.json")
        customers = try SnapshotTable(directory: dir, name: "customers")
        activities = try SnapshotTable(directory: dir, name: "activities")
        byCustomer = try ByCustomerIndex(directory: dir)
        snapshotPending = nil
        snapshotConflicted = nil
        committedFacts = [:]
        writtenRecords = [:]
        let journalPath = dir + "/journal.jsonl"
        if isExclusive {
            // A new journal's directory entry is made durable with it: a line fsync'd into a
            // file whose name a power loss takes back would be lost.
            let file = try FileHandle.openCreatingDurably(journalPath, .readWrite, options: .append)
            let bytes = try file.readAll()
            journal = Journal(bytes: bytes)
            if journal.validLength < bytes.count {
                // A torn tail from a crash: cut it so new lines start on a line boundary.
                try file.truncate(to: journal.validLength)
                try file.sync()
            }
            journalFile = file
            removeStaleEntries(keeping: name!)
        } else {
            journal = Journal(bytes: try POSIX.readFile(journalPath) ?? [])
        }
    }

    /// Removes generations and temporary files left by an interrupted compaction.
    private func removeStaleEntries(keeping current: String) {
        for entry in POSIX.listDirectory(directory) where entry != current {
            if entry.hasPrefix("gen-") || entry.contains(".tmp-") {
                POSIX.removeTree(directory + "/" + entry)
            }
        }
    }

    // MARK: Writing

    /// Appends `changes`, `acks`, `drops`, a cursor, the scope marks and a sync mark to the
    /// journal as one batch and makes it durable before returning. Applies together or not at
    /// all after a crash.
    ///
    /// - Parameters:
    ///   - changes: full states to store (the last one of an id wins).
    ///   - acks: ids whose pending state the server acknowledged.
    ///   - drops: records to forget (they left the user's scope); applied after `changes`.
    ///   - cursor: the new pull cursor; with `resetsCursor`, a null cursor is written instead
    ///     (the next pull starts from the beginning).
    ///   - scope: the user's scope to remember.
    ///   - rescoping: starts (`true`) or ends (`false`) a rescope.
    ///   - synced: marks a successful sync.
    public func commit(
        _ changes: [Change], acks: [String] = [], drops: [(id: String, kind: RecordKind)] = [], cursor: String? = nil,
        resetsCursor: Bool = false, scope: SyncScope? = nil, rescoping: Bool? = nil, synced: Timestamp? = nil,
        replica: ReplicaIncarnation? = nil
    ) throws {
        guard isExclusive, let journalFile else {
            throw CXError(.failure, "internal error: the cache was opened read-only for a write")
        }
        var lines: [[UInt8]] = []
        lines.reserveCapacity(changes.count + acks.count + drops.count + 5)
        // The incarnation's counter follows every dot it minted, in the same batch.
        if var incarnation = replica ?? self.replica {
            let minted = changes.reduce(incarnation.counter) { Swift.max($0, $1.state.clock[incarnation.id]) }
            if minted != incarnation.counter || replica != nil {
                incarnation.counter = minted
                lines.append(Journal.replicaLine(incarnation))
            }
        }
        for id in acks { lines.append(Journal.ackLine(id: id)) }
        for change in changes { lines.append(change.encoded?.line ?? Self.putLine(change)) }
        for drop in drops { lines.append(Journal.dropLine(id: drop.id, kind: drop.kind)) }
        if resetsCursor {
            lines.append(Journal.cursorLine(nil))
        } else if let cursor {
            lines.append(Journal.cursorLine(cursor))
        }
        // The cache keeps role and territories (docs/cache-format.md), not the reply's user name.
        if let scope { lines.append(Journal.scopeLine(SyncScope(role: scope.role, territories: scope.territories))) }
        if let rescoping { lines.append(Journal.rescopeLine(active: rescoping)) }
        if let synced { lines.append(Journal.syncedLine(synced)) }
        if lines.isEmpty { return }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(lines.reduce(64) { $0 + $1.count })
        if lines.count > 1 { buffer.append(contentsOf: Journal.batchLine(count: lines.count)) }
        for line in lines { buffer.append(contentsOf: line) }
        try journalFile.writeAll(buffer)
        CrashPoint.reach("journal-written")
        try journalFile.sync()
        journal.appendWritten(buffer)
        for change in changes {
            committedFacts[change.state.id] = change.encoded?.facts ?? InsightFacts(change.state).jsonBytes()
            remember(change.encoded?.written ?? WrittenRecord(change.state), for: change.state.id)
        }
        for drop in drops {
            committedFacts[drop.id] = nil
            writtenRecords[drop.id] = nil
        }
    }

    /// Remembers `record` for `id`, whose state this process wrote, or decoded and found to be
    /// still what the cache holds (byte for byte) (``WrittenRecord``). Past
    /// ``writtenRecordsLimit`` a new id is not remembered, but one already kept is always
    /// updated: an outdated entry would mislead the redirect.
    func remember(_ record: WrittenRecord, for id: String) {
        if writtenRecords.count < writtenRecordsLimit || writtenRecords[id] != nil { writtenRecords[id] = record }
    }

    /// Keeps `records` as ``writtenRecords`` again after a compaction reloaded the store.
    func restoreWrittenRecords(_ records: [String: WrittenRecord]) {
        writtenRecords = records
    }

    static func putLine(_ change: Change) -> [UInt8] {
        let state = change.state
        return Journal.putLine(
            id: state.id, kind: state.kind, pending: change.pending, conflicted: state.hasConflicts,
            deleted: state.isDeleted, customerID: state.kind == .activity ? state.displayedValue("customer_id") : nil,
            state: state.jsonBytes(), view: state.kind == .customer ? RecordView.jsonBytes(state) : nil)
    }
}
