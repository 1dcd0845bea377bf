import CXModel

/// One sync exchange: an envelope out, a reply back (``SyncClient`` over HTTP; fakes in tests).
public protocol SyncTransport: Sendable {
    func sync(_ envelope: [UInt8]) async throws -> SyncResponse
}

extension SyncClient: SyncTransport {}

/// What one `cx sync` did.
public struct SyncReport: Sendable {
    /// States the server accepted from this replica.
    public var pushed = 0
    /// Pulled states that changed the local cache.
    public var pulled = 0
    /// Records with unresolved conflicts after the sync.
    public var conflicts = 0
    /// States the server refused (they stay pending).
    public var rejected: [SyncResponse.Rejection] = []
    /// Pulled states that could not be read (skipped).
    public var skipped: [String] = []
    public var durationMS = 0

    public init() {}

    /// `{"pushed","pulled","conflicts","rejected":[{"id","code","message"}],"duration_ms"}`.
    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"pushed\":")
        w.number(UInt64(pushed))
        w.raw(",\"pulled\":")
        w.number(UInt64(pulled))
        w.raw(",\"conflicts\":")
        w.number(UInt64(conflicts))
        w.raw(",\"rejected\":[")
        for (index, rejection) in rejected.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.raw("{\"id\":")
            w.string(rejection.id)
            w.raw(",\"code\":")
            w.string(rejection.code)
            w.raw(",\"message\":")
            w.string(rejection.message)
            w.byte(UInt8(ascii: "}"))
        }
        w.raw("],\"duration_ms\":")
        w.number(UInt64(durationMS))
        w.byte(UInt8(ascii: "}"))
        return w.bytes
    }
}

/// Runs a sync: pushes pending states in batches, pulls pages until `has_more` is false, and
/// merges every pulled state into the cache.
///
/// The cache lock is held only between network round trips, so other `cx` commands can run
/// during a long sync. Each reply is applied as one journal batch together with its cursor, so
/// an interrupted sync resumes from the last applied page; a pending record is acknowledged
/// only if it is still exactly the state that was pushed (an edit made meanwhile stays pending).
public struct SyncEngine {
    public var cacheDirectory: String
    public var replicaID: String
    public var batchSize = 1000
    public var pageLimit = 1000
    public var progress: (@Sendable (String) -> Void)?

    public init(cacheDirectory: String, replicaID: String) {
        self.cacheDirectory = cacheDirectory
        self.replicaID = replicaID
    }

    public func run(client: some SyncTransport) async throws -> SyncReport {
        let started = POSIX.monotonicNanoseconds()
        var report = SyncReport()
        var queue: [String]
        do {
            let store = try CacheStore.open(directory: cacheDirectory, exclusive: true)
            defer { store.close() }
            queue = try store.pendingIDs()
        }
        var next = 0
        var hasMore = true
        var first = true
        while first || next < queue.count || hasMore {
            first = false
            // 1. Read the next batch of pending states and the cursor.
            var batch: [(id: String, bytes: [UInt8])] = []
            let cursor: String?
            do {
                let store = try CacheStore.open(directory: cacheDirectory, exclusive: true)
                defer { store.close() }
                while next < queue.count, batch.count < batchSize {
                    let id = queue[next]
                    next += 1
                    guard try store.isPending(id), let (_, bytes) = try store.stateBytes(id) else { continue }
                    batch.append((id, bytes))
                }
                cursor = store.cursor
            }
            // 2. Exchange.
            let envelope = SyncResponse.envelope(replicaID: replicaID, cursor: cursor, states: batch.map(\.bytes), limit: pageLimit)
            let response = try await client.sync(envelope)
            hasMore = response.hasMore
            // 3. Apply acks and the pulled page, with the new cursor, as one batch.
            let rejected = Set(response.rejected.map(\.id))
            report.rejected += response.rejected
            do {
                let store = try CacheStore.open(directory: cacheDirectory, exclusive: true)
                defer { store.close() }
                var acks: [String] = []
                for item in batch where !rejected.contains(item.id) {
                    report.pushed += 1
                    if let (_, current) = try store.stateBytes(item.id), current == item.bytes {
                        acks.append(item.id)
                    }
                }
                let acked = Set(acks)
                var changes: [String: CacheStore.Change] = [:]
                for raw in response.changes {
                    let pulled: RecordState
                    do {
                        pulled = try RecordState(jsonBytes: raw)
                    } catch {
                        report.skipped.append(error.description)
                        continue
                    }
                    let current = try changes[pulled.id]?.state ?? store.state(pulled.id)
                    if let current, !current.isSameRecord(as: pulled) {
                        report.skipped.append("record \(pulled.id) changed kind on the server; kept the local one")
                        continue
                    }
                    let merged = current?.merging(pulled) ?? pulled
                    if merged == current { continue }
                    let pending = try store.isPending(pulled.id) && !acked.contains(pulled.id)
                    changes[pulled.id] = CacheStore.Change(state: merged, pending: pending)
                }
                report.pulled += changes.count
                try store.commit(Array(changes.values), acks: acks, cursor: response.cursor ?? cursor)
                if try store.journalSize > midSyncThreshold(store) { try store.compact() }
            }
            if batch.count > 0 || !response.changes.isEmpty {
                progress?("synced: \(report.pushed) pushed, \(report.pulled) pulled so far")
            }
        }
        let store = try CacheStore.open(directory: cacheDirectory, exclusive: true)
        defer { store.close() }
        try store.commit([], synced: .now())
        try store.compactIfNeeded()
        report.conflicts = try store.conflictedIDs().count
        report.durationMS = Int((POSIX.monotonicNanoseconds() - started) / 1_000_000)
        return report
    }

    /// During a large first sync, fold the journal only when it is large relative to the
    /// snapshot, so total compaction work stays linear.
    private func midSyncThreshold(_ store: CacheStore) throws -> Int {
        let snapshot = try (store.customers?.stateFile?.size() ?? 0) + (store.activities?.stateFile?.size() ?? 0)
        return Swift.max(CacheStore.defaultCompactionThreshold * 4, snapshot / 2)
    }
}
