import CXModel

/// The first sync of a cache that holds no record: the server's snapshot of the user's scope
/// (docs/sync-protocol.md §2a), customers then activities in id order, written straight into
/// the tables of a new generation (``SnapshotWriter``) — no journal, no folds, no compaction.
/// The regular sync then goes on from the snapshot's cursor: it pushes what other commands
/// wrote meanwhile, pulls the changes made since the snapshot began, and redirects every
/// merged customer (the `redirect-due` marker is left for it).
///
/// Anything unusual hands over to the regular sync, which pulls everything the journal way: a
/// server without the option, a scope or epoch that changes under the snapshot, a record out
/// of order, or a cache that changed meanwhile in a way the tables cannot take.
extension SyncEngine {
    /// Pulls a snapshot into the cache if it holds no record and the server offers it; `nil`
    /// when it did not (the regular sync then pulls everything), else what it did.
    func pullSnapshot(client: some SyncTransport) async throws -> SyncReport? {
        // What a snapshot interrupted earlier left (this sync holds the sync lock: no other
        // one is writing it).
        POSIX.removeTree(cacheDirectory + "/" + SnapshotWriter.directoryName)
        guard pullsSnapshot else { return nil }
        let started = POSIX.monotonicNanoseconds()
        let replica: String
        do {
            let store = try CacheStore.open(directory: cacheDirectory, exclusive: true)
            defer { store.close() }
            guard store.holdsNoRecords else { return nil }
            replica = store.replica?.id ?? replicaID
        }
        // The first reply says what the server offers: one state asked for, and dropped (the
        // snapshot delivers it). A scope of one record or none is pulled the regular way: a
        // snapshot of it would write a generation for nothing at every sync of an empty home.
        let probe = try await client.sync(SyncEnvelope(replicaID: replica, cursor: nil, changes: [], limit: 1).jsonBytes())
        guard probe.features.contains(.snapshot), probe.hasMore else { return nil }
        let compact = probe.features.contains(.compactStates)
        let send = { (cursor: String?) in
            Self.sendSnapshotRequest(
                SyncEnvelope(
                    replicaID: replica, cursor: cursor, changes: [], limit: snapshotPageLimit, wantsCompactStates: compact, snapshot: true),
                with: client)
        }

        let writer = try SnapshotWriter(cacheDirectory: cacheDirectory)
        var report = SyncReport()
        // The scope of the first page: every page must be of the same.
        var scope: SyncScope?
        var pages = 0
        var pending = send(nil)
        var cursor: String?
        while cursor == nil {
            let reply = try await pending.answer.value.get()
            CrashPoint.reach("sync-replied")
            // A reply that is not a snapshot page, a snapshot begun again (the server's database
            // was restored meanwhile) or a scope that changed under it: the regular sync copes.
            guard let goesOn = reply.snapshot, let replyCursor = reply.cursor, !reply.reset, pages == 0 || reply.scope == scope else {
                writer.discard()
                return nil
            }
            scope = reply.scope
            pages += 1
            // The server reads the next page while this one is decoded (since it came in) and
            // written: one page written, the next decoding, the one after it in flight.
            let next = goesOn ? send(replyCursor) : nil
            let records = await pending.decoded.value
            do {
                for (raw, record) in zip(reply.changes, records) {
                    guard let record else {
                        if let failure = Self.decodingFailure(raw) { report.skipped.append(failure) }
                        continue
                    }
                    try writer.append(record)
                }
            } catch is SnapshotWriter.OutOfOrder {
                writer.discard()
                return nil
            }
            report.pulled += reply.changes.count
            CrashPoint.reach("sync-page-applied")
            progress?("synced: 0 pushed, \(report.pulled) pulled so far")
            if let next { pending = next } else { cursor = replyCursor }
        }
        try writer.finish()
        report.pulled = writer.customerCount + writer.activityCount
        // The regular sync that follows redirects every merged customer the snapshot brought.
        try POSIX.createEmptyFile(cacheDirectory + "/" + Self.redirectDueFile)
        let store = try CacheStore.open(directory: cacheDirectory, exclusive: true)
        defer { store.close() }
        guard try store.install(writer, cursor: cursor!, scope: scope) else { return nil }
        report.scope = scope
        report.durationMS = Int((POSIX.monotonicNanoseconds() - started) / 1_000_000)
        return report
    }

    /// A snapshot request on its way: the answer, and the reply's states decoded and encoded
    /// for the tables on both cores as soon as it is in (`nil` for a state that does not decode).
    private struct SnapshotRequest {
        let answer: Task<Result<SyncReply, any Error>, Never>
        let decoded: Task<[SnapshotRecord?], Never>
    }

    /// Sends one snapshot request without waiting for its answer.
    private static func sendSnapshotRequest(_ envelope: SyncEnvelope, with client: some SyncTransport) -> SnapshotRequest {
        let body = envelope.jsonBytes()
        let answer = Task { () -> Result<SyncReply, any Error> in
            do { return .success(try await client.sync(body)) } catch { return .failure(error) }
        }
        let decoded = Task { () -> [SnapshotRecord?] in
            guard case .success(let reply) = await answer.value else { return [] }
            return await OffPoolWork.map(reply.changes, workers: reply.changes.count >= 128 ? 2 : 1) { raw in
                (try? RecordState(jsonBytes: raw, values: .stored)).map(SnapshotRecord.init)
            }
        }
        return SnapshotRequest(answer: answer, decoded: decoded)
    }

    /// Why a pulled state that failed to decode does not, as a sync reports it (decoded again:
    /// the threads that decode pages keep no errors).
    static func decodingFailure(_ raw: [UInt8]) -> String? {
        do throws(StateDecodingError) {
            _ = try RecordState(jsonBytes: raw, values: .stored)
            return nil
        } catch {
            return error.description
        }
    }
}
