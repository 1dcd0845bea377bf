import CXModel

/// Writes the snapshot files of a cache's next generation: each table of the old generation
/// with the journal folded in (its puts replace or join the old lines, its drops leave them
/// out), in id order. A file the journal does not touch is hard-linked, not copied.
///
/// Every merge goes through ``SortedOverlay``, the old files read line by line; every table
/// through ``SnapshotTableWriter``, the writer ``CacheStore/bulkLoad(directory:states:cursor:)``
/// uses too.
struct CacheCompactor {
    /// The journal being folded in.
    let journal: Journal
    /// The old generation's directory.
    let source: String
    /// The new generation's directory (exists, empty).
    let target: String
    /// The journal's drops, as id bytes.
    private let dropped: Set<[UInt8]>
    /// Facts lines of journal puts known without decoding (written by this process).
    let knownFacts: [String: [UInt8]]
    /// Decodes a stored state, for facts no file holds (journal puts of earlier processes, and
    /// tables of generations written before facts were kept).
    let decode: (ArraySlice<UInt8>, String) throws -> RecordState

    init(
        journal: Journal, from source: String, to target: String, knownFacts: [String: [UInt8]] = [:],
        decode: @escaping (ArraySlice<UInt8>, String) throws -> RecordState
    ) {
        self.journal = journal
        self.source = source
        self.target = target
        self.knownFacts = knownFacts
        self.decode = decode
        dropped = Set(journal.dropped.keys.map { Array($0.utf8) })
    }

    /// The journal's puts of `kind`, keyed by id bytes for ``SortedOverlay``.
    private func journalUpdates(of kind: RecordKind) -> [(key: [UInt8], value: (id: String, put: Journal.Put))] {
        journal.puts.filter { $0.value.kind == kind }.map { (key: Array($0.key.utf8), value: (id: $0.key, put: $0.value)) }
    }

    /// Writes `<name>.jsonl`, `<name>.view.jsonl` (with `views`), `<name>.facts.jsonl` and
    /// `<name>.idx` of the new generation from `table` and the journal's puts of `kind`; returns
    /// the record count. A table of a generation written before facts were kept is rewritten
    /// (its facts made by decoding each state once) even when the journal does not touch it.
    func rewriteTable(_ name: String, kind: RecordKind, table: SnapshotTable?, views: Bool) throws -> Int {
        let updates = journalUpdates(of: kind)
        let dropsHere = try dropped.contains { try table?.find(String(decoding: $0, as: UTF8.self)) != nil }
        if updates.isEmpty && !dropsHere && (table?.hasFacts ?? true) {
            for file in SnapshotTable.fileNames(name) { try linkUnchanged(file) }
            return table?.count ?? 0
        }
        let oldStates = table?.stateFile.map { SequentialReader(file: $0) }
        let oldViews = table?.viewFile.map { SequentialReader(file: $0) }
        let oldFacts = table?.factsFile.map { FactsCursor(file: $0) }
        let writer = try SnapshotTableWriter(directory: target, name: name, views: views)
        func emitUpdate(_ update: (id: String, put: Journal.Put)) throws {
            let view = journal.viewBytes(update.put)
            let state = journal.stateBytes(update.put)
            let facts = try knownFacts[update.id] ?? InsightFacts(decode(state, update.id)).jsonBytes()
            try writer.append(id: update.id, state: state, view: view, facts: facts)
        }
        // The old index is read line by line, never held whole.
        var overlay = SortedOverlay(updates)
        try table?.forEachEntry { entry in
            if try overlay.advance(to: entry.id.utf8, emit: emitUpdate) { return }
            if dropsHere, dropped.contains(Array(entry.id.utf8)) { return }
            let state = try oldStates!.read(entry.stateLength, at: entry.stateOffset)
            let view = entry.viewLength > 0 ? try oldViews?.read(entry.viewLength, at: entry.viewOffset) : nil
            let facts = try oldFacts?.line(of: entry.id) ?? InsightFacts(decode(state, entry.id)).jsonBytes()[...]
            try writer.append(id: entry.id, state: state, view: view, facts: facts)
        }
        try overlay.finish(emit: emitUpdate)
        try writer.finish()
        return writer.count
    }

    /// Writes `activities.by-customer.idx` of the new generation: the old pairs of activities
    /// the journal did not touch, merged with the pairs of the activities it put.
    func rewriteByCustomer(_ index: ByCustomerIndex?, activities: SnapshotTable?) throws {
        let updates = journalUpdates(of: .activity)
        let droppedActivities = try dropped.filter { try activities?.find(String(decoding: $0, as: UTF8.self)) != nil }
        if updates.isEmpty && droppedActivities.isEmpty {
            try linkUnchanged(ByCustomerIndex.fileName)
            return
        }
        let changed = Set(updates.map(\.key)).union(droppedActivities)
        let added: [(key: [UInt8], value: [UInt8])] = updates.compactMap { update in
            update.value.put.customerID.map { customer in
                let line = ByCustomerIndex.line(customer: customer, activity: update.key)
                return (key: line, value: line)
            }
        }
        let writer = try BufferedWriter(path: target + "/" + ByCustomerIndex.fileName)
        func emit(_ line: [UInt8]) throws { try ByCustomerIndex.write(line: line, to: writer) }
        // The old lines are read one by one, never held whole; a line is its own sort key.
        var overlay = SortedOverlay(added)
        try index?.forEachLine { line in
            guard !changed.contains(Array(ByCustomerIndex.activity(in: line))) else { return }
            if try overlay.advance(to: line, emit: emit) { return }
            try ByCustomerIndex.write(line: line, to: writer)
        }
        try overlay.finish(emit: emit)
        try writer.finish()
    }

    /// Hard-links an unchanged file of the old generation into the new one (if it exists).
    private func linkUnchanged(_ file: String) throws(IOError) {
        guard POSIX.exists(source + "/" + file) else { return }
        try POSIX.hardLink(source + "/" + file, to: target + "/" + file)
    }

    /// Writes `ids`, one per line, to `path` (`pending.txt`, `conflicted.txt`), durably.
    static func writeIDList(_ ids: [String], to path: String) throws(IOError) {
        let writer = try BufferedWriter(path: path)
        for id in ids {
            try writer.write(Array(id.utf8))
            try writer.write(byte: UInt8(ascii: "\n"))
        }
        try writer.finish()
    }
}
