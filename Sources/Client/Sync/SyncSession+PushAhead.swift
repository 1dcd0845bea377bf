import CXModel

/// A push sent while the request before it is still unanswered, so that the server decodes one
/// request while PostgreSQL writes the other, and `cx` reads the next batch meanwhile
/// (docs/sync-protocol.md §4c; docs/benchmarks.md, "Pushing ahead").
///
/// **Tokens.** A push ahead presents the same tokens as the request in flight: the sync token
/// and the proposal that request made (before its answer), or the proposal the server has just
/// accepted as both (after it). The server admits either in any order — as it admits the retry
/// of a request whose reply was lost — and its stored token stays the proposal. So a push goes
/// ahead only under a proposal that covers its writes: no write was made since the proposal
/// (the incarnation's counter is still the proposal's), which a copy of this cache then shares;
/// otherwise the sync waits for the answer and proposes anew. No new proposal is made while a
/// push is ahead.
///
/// **Pages.** A push ahead pulls nothing (``SyncEnvelope/pushOnly``): its reply carries its
/// acknowledgements, refusals, the records it wrote that left the user's scope, and a receipt
/// of what it left exactly as sent (``EchoReceipt``). The next request that pulls hands the
/// receipts back, so the sync's own writes are not sent back to it.
///
/// **Order.** Answers are applied in the order the requests went out. When the request before
/// is not answered with a page (too large, forked), the pushes ahead are drained and dropped:
/// their states stay pending and go again — the merge makes a second push of a state a no-op.
extension SyncSession {
    /// The most receipts one sync holds (``echoReceipts``): past it, further receipts are
    /// dropped, and those writes come back in the pages (which is only slower). A receipt names
    /// at most the 5,000 states of one request; the server takes a million.
    static let echoReceiptLimit = 200

    /// The next batch to push ahead of the request in flight, or `nil` when none may go: the
    /// server does not push ahead, nothing is left to push, a rescope or restart is under way,
    /// or a write was made since the proposal the request in flight carries.
    mutating func pushAheadBatch() throws -> OutgoingBatch? {
        guard serverPushesAhead, next < queue.count, !restart, rescope == nil else { return nil }
        let store = try openCache()
        defer { store.suspend() }
        guard var sent = store.replica else { return nil }
        let confirmsUpTo: UInt64
        if sent.proposedToken != nil {
            guard let proposedCounter = sent.proposedCounter, proposedCounter == sent.counter else { return nil }
            confirmsUpTo = proposedCounter
        } else {
            guard let token = sent.token, sent.counter == sent.syncedCounter else { return nil }
            sent.proposedToken = token
            confirmsUpTo = sent.syncedCounter
        }
        var request = OutgoingBatch(
            start: next, restarting: false, cursor: store.cursor,
            sent: sent, confirmsUpTo: confirmsUpTo, omitsEchoes: false, compactStates: serverReadsCompactStates,
            pushOnly: true)
        try fill(&request, from: store)
        return request.batch.isEmpty ? nil : request
    }

    /// Applies the answer to a push ahead (``OutgoingBatch/pushOnly``): acknowledgements,
    /// refusals, the pushed records that left the user's scope, and the receipt, as one journal
    /// batch; the cursor, the scope and the pages are left as they are.
    mutating func applyPushOnly(_ reply: SyncReply, to request: OutgoingBatch) throws {
        // The push's writes lie past the cursor: the sync pulls at least once more (handing
        // back the receipts), so the next sync does not find them waiting.
        hasMore = true
        report.rejected += reply.rejected
        let store = try openCache()
        defer { store.suspend() }
        var page = PageChanges(store: store)
        try acknowledge(request, refused: Set(reply.rejected.map(\.id)), in: &page)
        touched.formUnion(request.batch.map(\.id))
        try dropRemoved(reply.removed, in: &page)
        try dropAcknowledgedLeavers(in: &page)
        report.removed += page.drops.count
        try store.commit(
            [], acks: page.acks, drops: page.drops,
            replica: Self.confirmedIncarnation(store, sent: request.sent, upTo: request.confirmsUpTo))
        if let receipt = reply.echoReceipt, rescope == nil, !restart, echoReceipts.count < Self.echoReceiptLimit {
            echoReceipts.append(receipt)
        }
        try rebaseForeignClocks(reply.rejected, store: store)
        try foldIfLarge(store)
    }

    /// Waits for the answers to `pushes` (pushes ahead of a request not answered with a page)
    /// and drops them: their states stay pending and go again, and what reading them reported
    /// is reported when they are read again.
    mutating func drop(_ pushes: [InFlight]) async {
        for push in pushes { _ = await push.decoded.value }
        forgetRefusals(of: pushes.map(\.request))
    }
}
