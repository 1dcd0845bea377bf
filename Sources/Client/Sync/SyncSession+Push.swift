import CXModel

/// One request about to go out: the pending states read for it, and what to restore if the
/// server refuses it as too large.
struct OutgoingBatch: Sendable {
    /// The states pushed, in push order, with the exact bytes sent (an ack needs them unchanged).
    var batch: [(id: String, bytes: [UInt8])] = []
    /// The bytes of the pushed states, a newline counted after each.
    var bytes = 0
    /// What pushed states read ahead are (``SyncSession/readAhead()``): once acknowledged, still
    /// the bytes pushed, the cache remembers them as such.
    var known: [String: WrittenRecord] = [:]
    /// ``SyncSession/next`` before this batch was read (a 413 reads again from here).
    let start: Int
    /// Whether this request pulls from the beginning (restored after a 413).
    let restarting: Bool
    /// The cursor pulled from (`nil`: the beginning).
    let cursor: String?
    /// The incarnation sent as, with its proposed next token.
    let sent: ReplicaIncarnation
    /// The highest counter of ``sent`` the request may carry: its writes up to there are
    /// shared history with the server once a reply arrives.
    let confirmsUpTo: UInt64
    /// Whether the page may leave out the states this request writes exactly as sent
    /// (``SyncEnvelope/omitsEchoes``).
    let omitsEchoes: Bool
    /// Whether the server reads compact states (and sends them when asked); if not, compact
    /// states are sent expanded (``StateFormat``).
    let compactStates: Bool
    /// The refusals reported while this batch was read (incomplete states): reported again when
    /// the batch is read again, so they leave the report if the request is not answered.
    var refusalsRead: [RecordRejection] = []
    /// Whether the request only pushes: it goes out while the request before it is unanswered
    /// and its answer brings no page (``SyncSession/pushAheadBatch()``).
    var pushOnly = false
    /// The receipts of this sync's push-only requests answered so far: the page leaves out the
    /// states they name that are still as pushed (``EchoReceipt``). Sent with ``omitsEchoes``.
    var echoReceipts: [EchoReceipt] = []

    /// The request body (``SyncEnvelope``).
    func envelope(pageLimit: Int) -> [UInt8] {
        let receipts = omitsEchoes && !pushOnly ? echoReceipts : []
        return SyncEnvelope(
            replicaID: sent.id, syncToken: sent.token, nextSyncToken: sent.proposedToken, cursor: cursor,
            changes: compactStates ? batch.map(\.bytes) : batch.map { RecordState.expandedJSON($0.bytes) }, limit: pageLimit,
            omitsEchoes: omitsEchoes && (!batch.isEmpty || !receipts.isEmpty), wantsCompactStates: compactStates,
            pushOnly: pushOnly, echoReceipts: receipts
        ).jsonBytes()
    }
}

extension SyncSession {
    /// Push, step one: reads the next batch of pending states and the cursor to pull from —
    /// at most ``countLimit`` states and ``byteLimit`` bytes, but always one state, however
    /// large — and stores the next token to propose before the request goes out.
    mutating func readBatch() throws -> OutgoingBatch {
        startingOver = false
        let store = try openCache()
        defer { store.suspend() }
        let proposal = try SyncEngine.proposingIncarnation(store, base: engine.replicaID)
        // Echoes of the push are not needed while no rescope is under way: the cache holds
        // them already. A rescope must see every state of its pages (what it does not see, it
        // drops), so it asks for everything.
        var request = OutgoingBatch(
            start: next, restarting: restart, cursor: restart ? nil : store.cursor,
            sent: proposal.incarnation, confirmsUpTo: proposal.confirmsUpTo,
            omitsEchoes: serverOmitsEchoes && rescope == nil && !restart, compactStates: serverReadsCompactStates,
            echoReceipts: restart ? [] : echoReceipts)
        restart = false
        if !proposal.settlesOnly { try fill(&request, from: store) }
        return request
    }

    /// Adds the next pending states of the queue to `request`: at most ``countLimit`` states and
    /// ``byteLimit`` bytes, but always one state, however large. States held back for a merge's
    /// survivor and incomplete ones (reported) are skipped.
    mutating func fill(_ request: inout OutgoingBatch, from store: CacheStore) throws {
        while next < queue.count, request.batch.count < countLimit {
            let id = queue[next]
            guard try store.isPending(id), let (_, bytes) = try store.stateBytes(id) else {
                next += 1
                continue
            }
            // The tombstone of a merge goes only after the survivor that took its values.
            if let survivor = try MergeHold.blocker(of: id, bytes: bytes, in: store) {
                next += 1
                heldMerges[id] = survivor
                continue
            }
            // The server refuses a whole request holding an incomplete state (422): such a state
            // (written by an older cx) stays pending and is reported, not pushed.
            let checked = vetted.removeValue(forKey: id).flatMap { $0.bytes == bytes ? $0.record : nil }
            if checked == nil, let refusal = SyncEngine.incompleteRefusal(try store.decode(bytes, id: id)) {
                next += 1
                report.rejected.append(refusal)
                request.refusalsRead.append(refusal)
                continue
            }
            if !request.batch.isEmpty, request.bytes + bytes.count + 1 > byteLimit { break }
            next += 1
            request.batch.append((id, bytes))
            request.known[id] = checked
            request.bytes += bytes.count + 1
        }
    }

    /// Takes the refusals reported while reading `requests` out of the report: they are read,
    /// and reported, again.
    mutating func forgetRefusals(of requests: [OutgoingBatch]) {
        let read = Set(requests.flatMap(\.refusalsRead))
        guard !read.isEmpty else { return }
        report.rejected.removeAll { read.contains($0) }
    }

    /// The server refused `request` as larger than its body limit (413). A batch of several
    /// states is read again from the same place with half the limits (what its reading
    /// reported is reported again); a single state the server cannot take is reported and
    /// skipped, so every other record still gets through.
    mutating func splitAfterPayloadTooLarge(_ request: OutgoingBatch) {
        restart = request.restarting
        if request.batch.count > 1 {
            forgetRefusals(of: [request])
            next = request.start
            countLimit = Swift.max(1, request.batch.count / 2)
            byteLimit = Swift.max(1, request.bytes / 2)
        } else {
            report.rejected.append(PayloadTooLarge.rejection(id: request.batch[0].id, bytes: request.bytes - 1))
        }
    }
}
