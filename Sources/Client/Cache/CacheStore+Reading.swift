import CXModel

extension CacheStore {
    /// Where the current version of a record is kept.
    enum Location {
        /// The journal's last put of it.
        case journal(Journal.Put)
        /// Its line in a snapshot table.
        case snapshot(kind: RecordKind, table: SnapshotTable, entry: SnapshotEntry)

        var kind: RecordKind {
            switch self {
            case .journal(let put): put.kind
            case .snapshot(let kind, _, _): kind
            }
        }
    }

    /// The one lookup path of every single-record read: the journal's last put wins, a journal
    /// drop hides whatever the snapshot holds, else the snapshot tables (customers, then
    /// activities) are binary-searched. `nil`: not cached.
    func locate(_ id: String) throws -> Location? {
        if let put = journal.puts[id] { return .journal(put) }
        if journal.dropped[id] != nil { return nil }
        return try snapshotLocation(of: id)
    }

    /// `id`'s line in the snapshot, whatever the journal says of it since.
    func snapshotLocation(of id: String) throws -> Location? {
        if let customers, let entry = try customers.find(id) { return .snapshot(kind: .customer, table: customers, entry: entry) }
        if let activities, let entry = try activities.find(id) { return .snapshot(kind: .activity, table: activities, entry: entry) }
        return nil
    }

    /// The snapshot table holding records of `kind`.
    func table(_ kind: RecordKind) -> SnapshotTable? {
        switch kind {
        case .customer: customers
        case .activity: activities
        }
    }

    /// The stored state bytes of `id` and its kind.
    public func stateBytes(_ id: String) throws -> (kind: RecordKind, bytes: [UInt8])? {
        switch try locate(id) {
        case nil: return nil
        case .journal(let put): return (put.kind, Array(journal.stateBytes(put)))
        case .snapshot(let kind, let table, let entry): return (kind, try table.stateBytes(entry))
        }
    }

    /// The decoded state of `id`.
    public func state(_ id: String) throws -> RecordState? {
        guard let (_, bytes) = try stateBytes(id) else { return nil }
        return try decode(bytes, id: id)
    }

    /// Decodes a stored state, turning a failure into advice (the cache can be downloaded again).
    func decode(_ bytes: some Collection<UInt8>, id: String) throws -> RecordState {
        do {
            return try RecordState(jsonBytes: bytes, values: .stored)
        } catch {
            throw CXError(.failure, "the cached state of \(id) is unreadable: \(error)",
                          hint: "Move the cache directory away and run `cx sync` to download the data again.")
        }
    }

    /// The `show --json` object of `id`: the precomputed view when there is one (customers),
    /// else rendered from the state.
    public func viewBytes(_ id: String) throws -> [UInt8]? {
        switch try locate(id) {
        case nil:
            return nil
        case .journal(let put):
            if let view = journal.viewBytes(put) { return Array(view) }
            return RecordView.jsonBytes(try decode(journal.stateBytes(put), id: id))
        case .snapshot(_, let table, let entry):
            if let view = try table.viewBytes(entry) { return view }
            return RecordView.jsonBytes(try decode(table.stateBytes(entry), id: id))
        }
    }

    /// The kind of `id`, if cached.
    public func kind(of id: String) throws -> RecordKind? {
        try locate(id)?.kind
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

    /// Size of the journal in bytes.
    public var journalSize: Int { journal.validLength }

    /// Size of the snapshot's state files in bytes (what a compaction rewrites at least).
    func snapshotSize() throws -> Int {
        try (customers?.stateFile?.size() ?? 0) + (activities?.stateFile?.size() ?? 0)
    }

    /// Record counts (snapshot plus records first written in the journal, minus drops).
    public func counts() throws -> (customers: Int, activities: Int) {
        var customersCount = meta.customers, activitiesCount = meta.activities
        for (id, put) in journal.puts where try table(put.kind)?.find(id) == nil {
            switch put.kind {
            case .customer: customersCount += 1
            case .activity: activitiesCount += 1
            }
        }
        for id in journal.dropped.keys {
            switch try snapshotLocation(of: id)?.kind {
            case .customer?: customersCount -= 1
            case .activity?: activitiesCount -= 1
            case nil: break
            }
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
        for kind in [RecordKind.customer, .activity] {
            guard let snapshot = table(kind) else { continue }
            let bytes = try snapshot.indexFileBytes()
            result.reserveCapacity(result.count + snapshot.count)
            for i in 0..<snapshot.count {
                let start = i * SnapshotTable.lineWidth
                let id = String(decoding: bytes[start..<(start + 36)], as: UTF8.self)
                if !journal.supersedes(id) { result.append((id, kind)) }
            }
        }
        for (id, put) in journal.puts { result.append((id, put.kind)) }
        return result
    }

    /// Calls `body` with the view JSON of every customer in id order, journal versions over
    /// snapshot ones, without decoding any state. `deleted` tells whether the record is deleted.
    public func forEachCustomerView(_ body: (_ view: UnsafeBufferPointer<UInt8>, _ deleted: Bool) throws -> Void) throws {
        var overlay = SortedOverlay(journal.puts.filter { $0.value.kind == .customer }.map { (key: Array($0.key.utf8), value: $0.value) })
        let dropped = Set(journal.dropped.keys.map { Array($0.utf8) })
        func emitJournal(_ put: Journal.Put) throws {
            guard let view = journal.viewBytes(put) else { return }
            try view.withUnsafeBufferPointer { try body($0, put.deleted) }
        }
        if let file = customers?.viewFile {
            try LineReader(file: file).forEachLine { line in
                guard line.count > 43 else { return true }
                // A view line starts `{"id":"<36 bytes>"`.
                let id = UnsafeBufferPointer(rebasing: line[7..<43])
                if try overlay.advance(to: id, emit: emitJournal) { return true }
                if !dropped.isEmpty, dropped.contains(Array(id)) { return true }
                try body(line, ViewScan.isDeleted(line))
                return true
            }
        }
        try overlay.finish(emit: emitJournal)
    }

    /// The ids of every customer whose stored state may name a survivor (its bytes hold the
    /// merge field, ``MergeRedirect/mayName(_:_:)-swift.type.method``), read in one pass over the
    /// snapshot's index and states without decoding them: what a sync redirects when it cannot
    /// say which records it touched.
    func customersThatMayBeMerged() throws -> Set<String> {
        var ids: Set<String> = []
        let field = RecordState.mergedIntoField
        if let customers, let file = customers.stateFile {
            let states = SequentialReader(file: file)
            try customers.forEachEntry { entry in
                guard !journal.supersedes(entry.id) else { return }
                let state = try states.read(entry.stateLength, at: entry.stateOffset)
                if state.withUnsafeBufferPointer({ MergeRedirect.mayName(field, $0) }) { ids.insert(entry.id) }
            }
        }
        for (id, put) in journal.puts where put.kind == .customer {
            if journal.stateBytes(put).withUnsafeBufferPointer({ MergeRedirect.mayName(field, $0) }) { ids.insert(id) }
        }
        return ids
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
}
