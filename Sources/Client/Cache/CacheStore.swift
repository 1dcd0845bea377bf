import CXModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local cache: sorted snapshot files per kind plus an append-only journal, inside a
/// generation directory named by `CURRENT` (see docs/cache-format.md).
///
/// Open it with ``open(directory:exclusive:)``: readers take the lock file shared, writers
/// exclusive, and hold it until ``close()``. Every write is appended to the journal and fsync'd
/// before the call returns; ``compact()`` folds the journal into a new generation and switches
/// `CURRENT` atomically, so a crash at any instant leaves the old or the new state.
public final class CacheStore {
    /// A record state to write, and whether it holds local edits not yet pushed.
    public struct Change {
        public var state: RecordState
        public var pending: Bool
        public init(state: RecordState, pending: Bool) {
            self.state = state
            self.pending = pending
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
    private var journalFile: FileHandle?
    private var snapshotPending: Set<String>?
    private var snapshotConflicted: Set<String>?

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

    private func load() throws {
        let currentPath = directory + "/CURRENT"
        var name = try POSIX.readFile(currentPath).map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: " \n") }
        if name == nil || name!.isEmpty {
            guard isExclusive else { return }
            name = "gen-00000000"
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
        let journalPath = dir + "/journal.jsonl"
        if isExclusive {
            // A new journal's directory entry is made durable with it: a line fsync'd into a
            // file whose name a power loss takes back would be lost.
            let file = try FileHandle.openCreatingDurably(journalPath, flags: O_RDWR | O_APPEND, mode: 0o600)
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

    // MARK: Reading

    /// The stored state bytes of `id` and its kind.
    public func stateBytes(_ id: String) throws -> (kind: RecordKind, bytes: [UInt8])? {
        if let put = journal.puts[id] { return (put.kind, Array(journal.stateBytes(put))) }
        if journal.dropped[id] != nil { return nil }
        if let entry = try customers?.find(id) { return (.customer, try customers!.stateBytes(entry)) }
        if let entry = try activities?.find(id) { return (.activity, try activities!.stateBytes(entry)) }
        return nil
    }

    /// The decoded state of `id`.
    public func state(_ id: String) throws -> RecordState? {
        guard let (_, bytes) = try stateBytes(id) else { return nil }
        return try decode(bytes, id: id)
    }

    func decode(_ bytes: some Collection<UInt8>, id: String) throws -> RecordState {
        do {
            return try RecordState(jsonBytes: bytes, values: .stored)
        } catch {
            throw CXError(.failure, "the cached state of \(id) is unreadable: \(error)",
                          hint: "Move the cache directory away and run `cx sync` to download the data again.")
        }
    }

    /// The `show --json` object of `id`.
    public func viewBytes(_ id: String) throws -> [UInt8]? {
        if let put = journal.puts[id] {
            if let view = journal.viewBytes(put) { return Array(view) }
            return RecordView.jsonBytes(try decode(journal.stateBytes(put), id: id))
        }
        if journal.dropped[id] != nil { return nil }
        if let customers, let entry = try customers.find(id) {
            if let view = try customers.viewBytes(entry) { return view }
            return RecordView.jsonBytes(try decode(customers.stateBytes(entry), id: id))
        }
        if let activities, let entry = try activities.find(id) {
            return RecordView.jsonBytes(try decode(activities.stateBytes(entry), id: id))
        }
        return nil
    }

    /// The kind of `id`, if cached.
    public func kind(of id: String) throws -> RecordKind? {
        if let put = journal.puts[id] { return put.kind }
        if journal.dropped[id] != nil { return nil }
        if try customers?.find(id) != nil { return .customer }
        if try activities?.find(id) != nil { return .activity }
        return nil
    }

    /// Ids starting with `prefix` (at most `limit` per source), sorted.
    public func ids(withPrefix prefix: String, limit: Int = 20) throws -> [String] {
        var found = Set(journal.puts.keys.filter { $0.hasPrefix(prefix) })
        for id in try customers?.ids(withPrefix: prefix, limit: limit) ?? [] { found.insert(id) }
        for id in try activities?.ids(withPrefix: prefix, limit: limit) ?? [] { found.insert(id) }
        return found.filter { journal.dropped[$0] == nil }.sorted()
    }

    /// Whether `id` has local changes the server has not acknowledged.
    public func isPending(_ id: String) throws -> Bool {
        if let value = journal.pending[id] { return value }
        return try loadSnapshotPending().contains(id)
    }

    /// Every id with unpushed local changes, sorted.
    public func pendingIDs() throws -> [String] {
        var ids = try loadSnapshotPending()
        for (id, value) in journal.pending {
            if value { ids.insert(id) } else { ids.remove(id) }
        }
        return ids.sorted()
    }

    /// Every id whose record has a conflict, sorted.
    public func conflictedIDs() throws -> [String] {
        var ids = try loadSnapshotConflicted()
        for (id, put) in journal.puts {
            if put.conflicted { ids.insert(id) } else { ids.remove(id) }
        }
        for id in journal.dropped.keys { ids.remove(id) }
        return ids.sorted()
    }

    /// The pull cursor of the last synced page (`nil`: pull from the beginning).
    public var cursor: String? { journal.hasCursor ? journal.cursor : meta.cursor }
    /// The user's scope as the last sync saw it (`nil` before the first scoped sync).
    public var scope: SyncScope? { journal.scope ?? meta.scope }
    /// Whether a rescope started and has not finished (the next sync restarts it).
    public var isRescoping: Bool { journal.rescoping ?? meta.rescoping }
    /// When the last sync finished (canonical timestamp text).
    public var lastSync: String? { journal.lastSync ?? meta.lastSync }

    /// The replica incarnation this cache writes as, if one was made (see ``incarnation(base:)``).
    public var replica: ReplicaIncarnation? { journal.replica ?? meta.replica }

    /// Record counts (snapshot plus records first written in the journal).
    public func counts() throws -> (customers: Int, activities: Int) {
        var customersCount = meta.customers, activitiesCount = meta.activities
        for (id, put) in journal.puts {
            switch put.kind {
            case .customer: if try customers?.find(id) == nil { customersCount += 1 }
            case .activity: if try activities?.find(id) == nil { activitiesCount += 1 }
            }
        }
        for id in journal.dropped.keys {
            if try customers?.find(id) != nil { customersCount -= 1 } else if try activities?.find(id) != nil { activitiesCount -= 1 }
        }
        return (customersCount, activitiesCount)
    }

    /// The ids of a customer's activities.
    public func activityIDs(ofCustomer customerID: String) throws -> [String] {
        var ids = Set(try byCustomer?.activityIDs(of: customerID) ?? [])
        for (id, put) in journal.puts where put.kind == .activity {
            if put.customerID == customerID { ids.insert(id) } else { ids.remove(id) }
        }
        for id in journal.dropped.keys { ids.remove(id) }
        return ids.sorted()
    }

    /// The id and kind of every cached record (snapshot and journal, dropped ones excluded),
    /// read from the index files without touching any state.
    public func records() throws -> [(id: String, kind: RecordKind)] {
        var result: [(id: String, kind: RecordKind)] = []
        for (kind, table) in [(RecordKind.customer, customers), (.activity, activities)] {
            guard let table else { continue }
            let bytes = try table.indexFileBytes()
            result.reserveCapacity(result.count + table.count)
            for i in 0..<table.count {
                let start = i * SnapshotTable.lineWidth
                let id = String(decoding: bytes[start..<(start + 36)], as: UTF8.self)
                if journal.puts[id] == nil, journal.dropped[id] == nil { result.append((id, kind)) }
            }
        }
        for (id, put) in journal.puts { result.append((id, put.kind)) }
        return result
    }

    /// Calls `body` with the view JSON of every customer in id order, journal versions over
    /// snapshot ones, without decoding any state. `deleted` tells whether the record is deleted.
    public func forEachCustomerView(_ body: (_ view: UnsafeBufferPointer<UInt8>, _ deleted: Bool) throws -> Void) throws {
        let updates = journal.puts.filter { $0.value.kind == .customer }.map { (id: Array($0.key.utf8), put: $0.value) }
            .sorted { $0.id.lexicographicallyPrecedes($1.id) }
        var next = 0
        let journalBytes = journal.bytes
        let dropped = Set(journal.dropped.keys.map { Array($0.utf8) })
        func emitJournal(_ index: Int) throws {
            let put = updates[index].put
            if let range = put.view {
                try journalBytes.withUnsafeBufferPointer { all in
                    try body(UnsafeBufferPointer(rebasing: all[range]), put.deleted)
                }
            }
        }
        if let file = customers?.viewFile {
            let reader = LineReader(file: file)
            try reader.forEachLine { line in
                guard line.count > 43 else { return true }
                let id = UnsafeBufferPointer(rebasing: line[7..<43])
                while next < updates.count, updates[next].id.lexicographicallyPrecedes(id) {
                    try emitJournal(next)
                    next += 1
                }
                if next < updates.count, updates[next].id.elementsEqual(id) {
                    try emitJournal(next)
                    next += 1
                    return true
                }
                if !dropped.isEmpty, dropped.contains(Array(id)) { return true }
                try body(line, ViewScan.isDeleted(line))
                return true
            }
        }
        while next < updates.count {
            try emitJournal(next)
            next += 1
        }
    }

    private func loadSnapshotPending() throws -> Set<String> {
        if let snapshotPending { return snapshotPending }
        let loaded = try loadIDList("pending.txt")
        snapshotPending = loaded
        return loaded
    }

    private func loadSnapshotConflicted() throws -> Set<String> {
        if let snapshotConflicted { return snapshotConflicted }
        let loaded = try loadIDList("conflicted.txt")
        snapshotConflicted = loaded
        return loaded
    }

    private func loadIDList(_ name: String) throws -> Set<String> {
        guard let dir = generationDirectory, let bytes = try POSIX.readFile(dir + "/" + name) else { return [] }
        return Set(bytes.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) })
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
        for change in changes { lines.append(Self.putLine(change)) }
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
    }

    static func putLine(_ change: Change) -> [UInt8] {
        let state = change.state
        return Journal.putLine(
            id: state.id, kind: state.kind, pending: change.pending, conflicted: state.hasConflicts,
            deleted: state.isDeleted, customerID: state.kind == .activity ? state.displayedValue("customer_id") : nil,
            state: state.jsonBytes(), view: state.kind == .customer ? RecordView.jsonBytes(state) : nil)
    }

    /// Size of the journal in bytes.
    public var journalSize: Int { journal.validLength }

    /// The compaction threshold: `CX_COMPACTION_THRESHOLD` (bytes) when set, else
    /// ``defaultCompactionThreshold``. Tests set it low to crash in the middle of compactions.
    public static var compactionThreshold: Int {
        if let raw = getenv("CX_COMPACTION_THRESHOLD"), let value = Int(String(cString: raw)), value >= 0 {
            return value
        }
        return defaultCompactionThreshold
    }

    /// Compacts when the journal exceeds `threshold` bytes.
    public func compactIfNeeded(threshold: Int = CacheStore.compactionThreshold) throws {
        if journal.validLength > threshold { try compact() }
    }

    /// Folds the journal into a new generation and switches to it atomically.
    public func compact() throws {
        guard isExclusive, let oldDirectory = generationDirectory else { return }
        let generation = meta.generation + 1
        let name = "gen-" + String(repeating: "0", count: Swift.max(0, 8 - String(generation).count)) + String(generation)
        let newDirectory = directory + "/" + name
        POSIX.removeTree(newDirectory)
        try POSIX.makeDirectories(newDirectory)

        var customerUpdates: [(id: [UInt8], put: Journal.Put)] = []
        var activityUpdates: [(id: [UInt8], put: Journal.Put)] = []
        for (id, put) in journal.puts {
            if put.kind == .customer { customerUpdates.append((Array(id.utf8), put)) } else { activityUpdates.append((Array(id.utf8), put)) }
        }
        customerUpdates.sort { $0.id.lexicographicallyPrecedes($1.id) }
        activityUpdates.sort { $0.id.lexicographicallyPrecedes($1.id) }

        var newMeta = meta
        newMeta.generation = generation
        newMeta.cursor = cursor
        newMeta.lastSync = lastSync
        newMeta.scope = scope
        newMeta.rescoping = isRescoping
        newMeta.replica = replica
        let dropped = Set(journal.dropped.keys.map { Array($0.utf8) })
        newMeta.customers = try rewrite(
            "customers", table: customers, updates: customerUpdates, dropped: dropped, from: oldDirectory, to: newDirectory,
            views: true)
        newMeta.activities = try rewrite(
            "activities", table: activities, updates: activityUpdates, dropped: dropped, from: oldDirectory, to: newDirectory,
            views: false)
        try rewriteByCustomer(updates: activityUpdates, dropped: dropped, from: oldDirectory, to: newDirectory)

        let pending = try pendingIDs()
        let conflicted = try conflictedIDs()
        try writeIDList(pending, to: newDirectory + "/pending.txt")
        try writeIDList(conflicted, to: newDirectory + "/conflicted.txt")
        let metaFile = try BufferedWriter(path: newDirectory + "/meta.json")
        try metaFile.write(newMeta.jsonBytes())
        try metaFile.finish()
        try POSIX.syncDirectory(newDirectory)

        CrashPoint.reach("compaction-switch")
        // The switch: CURRENT names the new generation, durably; then the old one goes.
        try POSIX.writeAtomically(Array((name + "\n").utf8), to: directory + "/CURRENT")
        journalFile?.close()
        journalFile = nil
        POSIX.removeTree(oldDirectory)
        try load()
    }

    private func writeIDList(_ ids: [String], to path: String) throws {
        let writer = try BufferedWriter(path: path)
        for id in ids {
            try writer.write(Array(id.utf8))
            try writer.write(byte: UInt8(ascii: "\n"))
        }
        try writer.finish()
    }

    /// Writes `<name>.jsonl`, `.view.jsonl` and `.idx` of the new generation: the old lines,
    /// replaced or joined by the journal's puts, minus `dropped` ids, in id order. Unchanged
    /// files are hard-linked.
    private func rewrite(
        _ name: String, table: SnapshotTable?, updates: [(id: [UInt8], put: Journal.Put)], dropped: Set<[UInt8]>,
        from: String, to: String, views: Bool
    ) throws -> Int {
        let files = ["\(name).jsonl", "\(name).view.jsonl", "\(name).idx"]
        let dropsHere = try dropped.contains { try table?.find(String(decoding: $0, as: UTF8.self)) != nil }
        if updates.isEmpty && !dropsHere {
            for file in files where POSIX.exists(from + "/" + file) {
                if link(from + "/" + file, to + "/" + file) != 0 {
                    throw IOError(path: to + "/" + file, operation: "link", errno: errno)
                }
            }
            return table?.count ?? 0
        }
        let old = try table?.allEntries() ?? []
        let oldStates = table?.stateFile.map { SequentialReader(file: $0) }
        let oldViews = table?.viewFile.map { SequentialReader(file: $0) }
        let stateWriter = try BufferedWriter(path: to + "/" + files[0])
        let viewWriter = views ? try BufferedWriter(path: to + "/" + files[1]) : nil
        let indexWriter = try BufferedWriter(path: to + "/" + files[2])
        var count = 0
        let journalBytes = journal.bytes

        func emit(id: String, state: some Collection<UInt8>, view: (some Collection<UInt8>)?) throws {
            let stateOffset = stateWriter.offset
            try stateWriter.write(state)
            try stateWriter.write(byte: UInt8(ascii: "\n"))
            var viewOffset = 0, viewLength = 0
            if let viewWriter, let view {
                viewOffset = viewWriter.offset
                viewLength = view.count
                try viewWriter.write(view)
                try viewWriter.write(byte: UInt8(ascii: "\n"))
            }
            try indexWriter.write(SnapshotTable.indexLine(
                id: id, stateOffset: stateOffset, stateLength: state.count, viewOffset: viewOffset, viewLength: viewLength))
            count += 1
        }
        func emitUpdate(_ update: (id: [UInt8], put: Journal.Put)) throws {
            let id = String(decoding: update.id, as: UTF8.self)
            let view: ArraySlice<UInt8>? = update.put.view.map { journalBytes[$0] }
            try emit(id: id, state: journalBytes[update.put.state], view: view)
        }

        var next = 0
        for entry in old {
            let id = Array(entry.id.utf8)
            while next < updates.count, updates[next].id.lexicographicallyPrecedes(id) {
                try emitUpdate(updates[next])
                next += 1
            }
            if next < updates.count, updates[next].id == id {
                try emitUpdate(updates[next])
                next += 1
                continue
            }
            if dropsHere, dropped.contains(id) { continue }
            let state = try oldStates!.read(entry.stateLength, at: entry.stateOffset)
            let view = entry.viewLength > 0 ? try oldViews?.read(entry.viewLength, at: entry.viewOffset) : nil
            try emit(id: entry.id, state: state, view: view)
        }
        while next < updates.count {
            try emitUpdate(updates[next])
            next += 1
        }
        try stateWriter.finish()
        try viewWriter?.finish()
        try indexWriter.finish()
        return count
    }

    private func rewriteByCustomer(
        updates: [(id: [UInt8], put: Journal.Put)], dropped: Set<[UInt8]>, from: String, to: String
    ) throws {
        let file = "activities.by-customer.idx"
        let droppedActivities = try dropped.filter { try activities?.find(String(decoding: $0, as: UTF8.self)) != nil }
        if updates.isEmpty && droppedActivities.isEmpty {
            if POSIX.exists(from + "/" + file), link(from + "/" + file, to + "/" + file) != 0 {
                throw IOError(path: to + "/" + file, operation: "link", errno: errno)
            }
            return
        }
        let changed = Set(updates.map(\.id)).union(droppedActivities)
        var pairs = try byCustomer?.allPairs().filter { !changed.contains($0.activity) } ?? []
        var added: [(customer: [UInt8], activity: [UInt8])] = updates.compactMap { update in
            update.put.customerID.map { (Array($0.utf8), update.id) }
        }
        added.sort { ($0.customer + $0.activity).lexicographicallyPrecedes($1.customer + $1.activity) }
        // Merge two sorted lists.
        var merged: [(customer: [UInt8], activity: [UInt8])] = []
        merged.reserveCapacity(pairs.count + added.count)
        var i = 0, j = 0
        while i < pairs.count || j < added.count {
            if j == added.count || (i < pairs.count && !(added[j].customer + added[j].activity).lexicographicallyPrecedes(pairs[i].customer + pairs[i].activity)) {
                merged.append(pairs[i])
                i += 1
            } else {
                merged.append(added[j])
                j += 1
            }
        }
        pairs = []
        let writer = try BufferedWriter(path: to + "/" + file)
        for pair in merged {
            try writer.write(pair.customer)
            try writer.write(byte: UInt8(ascii: " "))
            try writer.write(pair.activity)
            try writer.write(byte: UInt8(ascii: "\n"))
        }
        try writer.finish()
    }
}

/// Cheap byte-level checks on view lines written by ``RecordView``.
enum ViewScan {
    static let deletedMarker = Array("],\"deleted\":true,\"conflicts\":".utf8)
    static let conflictsMarker = Array(",\"conflicts\":[{".utf8)

    static func isDeleted(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        contains(line, deletedMarker)
    }

    static func hasConflicts(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        contains(line, conflictsMarker)
    }

    /// Whether `needle` occurs in `haystack` (glibc `memmem`).
    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        // memchr for the first byte, memcmp for the rest (glibc's memmem needs _GNU_SOURCE).
        let first = Int32(needle[0])
        let base = haystack.baseAddress!
        let last = haystack.count - needle.count
        var position = 0
        return needle.withUnsafeBytes { n in
            while position <= last {
                guard let found = memchr(base + position, first, last - position + 1) else { return false }
                let offset = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + offset, n.baseAddress!, n.count) == 0 { return true }
                position = offset + 1
            }
            return false
        }
    }
}
