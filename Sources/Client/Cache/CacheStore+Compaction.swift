import CXModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension CacheStore {
    /// The compaction threshold: `CX_COMPACTION_THRESHOLD` (bytes) when set, else
    /// ``defaultCompactionThreshold``. Tests set it low to crash in the middle of compactions.
    public static var compactionThreshold: Int {
        if let raw = getenv("CX_COMPACTION_THRESHOLD"), let value = Int(String(cString: raw)), value >= 0 {
            return value
        }
        return defaultCompactionThreshold
    }

    /// Compacts when the journal exceeds `threshold` bytes, or when the snapshot was written
    /// before facts were kept (once: reports then stop decoding every state).
    public func compactIfNeeded(threshold: Int = CacheStore.compactionThreshold) throws {
        if journal.validLength > threshold || !snapshotHasFacts { try compact() }
    }

    /// Folds the journal into a new generation and switches to it atomically.
    ///
    /// - Parameter writingBook: whether to write the generation's `book.bin` (derived data:
    ///   without it reports read the facts files; see ``writeBookIfMissing()``).
    ///
    /// The new generation is written beside the old one (``CacheCompactor``), made durable, and
    /// only then named by `CURRENT`: a crash before the switch leaves the old generation (the
    /// next writer removes the half-written one), a crash after it the new one.
    public func compact(writingBook: Bool = true) throws {
        guard isExclusive, let oldDirectory = generationDirectory else { return }
        let generation = meta.generation + 1
        let name = Self.generationName(generation)
        let newDirectory = directory + "/" + name
        POSIX.removeTree(newDirectory)
        try POSIX.makeDirectories(newDirectory)

        var newMeta = meta
        newMeta.generation = generation
        newMeta.cursor = cursor
        newMeta.lastSync = lastSync
        newMeta.scope = scope
        newMeta.rescoping = isRescoping
        newMeta.replica = replica
        let compactor = CacheCompactor(
            journal: journal, from: oldDirectory, to: newDirectory, knownFacts: committedFacts,
            decode: { [unowned self] bytes, id in try decode(bytes, id: id) })
        newMeta.customers = try compactor.rewriteTable("customers", kind: .customer, table: customers, views: true)
        newMeta.activities = try compactor.rewriteTable("activities", kind: .activity, table: activities, views: false)
        try compactor.rewriteByCustomer(byCustomer, activities: activities)
        if writingBook { try GenerationBook.write(in: newDirectory) }

        try CacheCompactor.writeIDList(try pendingIDs(), to: newDirectory + "/pending.txt")
        try CacheCompactor.writeIDList(try conflictedIDs(), to: newDirectory + "/conflicted.txt")
        let written = writtenRecords
        try switchGeneration(to: newDirectory, named: name, meta: newMeta, from: oldDirectory)
        restoreWrittenRecords(written)
    }

    /// Ends the writing of a new generation (a compaction's or a snapshot's, whose files are
    /// all written and fsync'd): its `meta.json`, the directory made durable, then the switch —
    /// `CURRENT` names it, durably — and the old generation removed, the new one loaded.
    func switchGeneration(to newDirectory: String, named name: String, meta: SnapshotMeta, from oldDirectory: String) throws {
        let metaFile = try BufferedWriter(path: newDirectory + "/meta.json")
        try metaFile.write(meta.jsonBytes())
        try metaFile.finish()
        try POSIX.syncDirectory(newDirectory)

        CrashPoint.reach("compaction-switch")
        try POSIX.writeAtomically(Array((name + "\n").utf8), to: directory + "/CURRENT")
        journalFile?.close()
        journalFile = nil
        POSIX.removeTree(oldDirectory)
        try load()
    }

    /// Writes the current generation's `book.bin` when a compaction left it out, atomically: a
    /// reader sees the whole file or none (and then reads the facts files).
    func writeBookIfMissing() throws {
        guard isExclusive, let directory = generationDirectory, !POSIX.exists(directory + "/" + GenerationBook.fileName) else {
            return
        }
        try GenerationBook.write(in: directory)
    }
}
