import CXModel

extension CacheStore {
    /// Writes a whole cache generation from scratch (benchmarks, tests): `states` become the
    /// snapshot, with no pending changes. Replaces whatever the cache held.
    public static func bulkLoad(directory: String, states: [RecordState], cursor: String? = nil) throws {
        try bulkLoad(directory: directory, records: states.map(SnapshotRecord.init), cursor: cursor)
    }

    /// Writes a generation from encoded records (any order), through the writer a first sync's
    /// snapshot uses (``SnapshotWriter``): the tables, the by-customer index and the book.
    static func bulkLoad(directory: String, records: [SnapshotRecord], cursor: String?) throws {
        let store = try CacheStore.open(directory: directory, exclusive: true)
        defer { store.close() }
        let writer = try SnapshotWriter(cacheDirectory: directory)
        for record in records.sorted(by: { $0.kind != $1.kind ? $0.kind == .customer : $0.id < $1.id }) {
            try writer.append(record)
        }
        try writer.finish()
        let name = generationName(1)
        let target = directory + "/" + name
        POSIX.removeTree(target)
        try POSIX.move(writer.directory, to: target)
        try POSIX.writeAtomically(Array(writer.conflicted.sorted().map { $0 + "\n" }.joined().utf8), to: target + "/conflicted.txt")
        var meta = SnapshotMeta()
        meta.generation = 1
        meta.customers = writer.customerCount
        meta.activities = writer.activityCount
        meta.cursor = cursor
        try POSIX.writeAtomically(meta.jsonBytes(), to: target + "/meta.json")
        try POSIX.syncDirectory(target)
        try POSIX.writeAtomically(Array((name + "\n").utf8), to: directory + "/CURRENT")
        for entry in POSIX.listDirectory(directory) where entry.hasPrefix("gen-") && entry != name {
            POSIX.removeTree(directory + "/" + entry)
        }
    }
}
