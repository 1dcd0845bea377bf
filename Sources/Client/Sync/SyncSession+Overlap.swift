import CXModel

/// Work a sync does while the server works on its request, so that the client, the server and
/// PostgreSQL do not simply take turns (docs/benchmarks.md, "Push writes by COPY, and overlapping the exchange"):
///
/// - **Push:** the next batch's states are checked for completeness (decoded) ahead
///   (``readAhead()``); ``readBatch()`` then only reads them again and skips the decoding when
///   the bytes are still the ones checked, and an acknowledged state still those bytes is
///   remembered as decoded (``CacheStore/remember(_:for:)``), so the end of the sync
///   (``MergeRedirect``) does not read it back.
/// - **Pull:** once nothing is left to push, the request for the next page goes out as soon as
///   a reply names its cursor, and the page just received is applied while the server reads
///   the next (``pullAhead(after:to:)``). Such a request pushes nothing and proposes no new
///   sync token: it presents the token the server just accepted as both the current and the
///   next one, so the server still refuses it if another copy of the cache synced meanwhile,
///   and a reply that never arrives leaves nothing to settle. It is used only if applying the
///   page left the sync exactly where the request assumed (``mayUse(_:)``); otherwise its
///   answer is dropped, which costs the server a read and changes nothing.
extension SyncSession {
    /// Checks the states of the next batch for completeness ahead of ``readBatch()`` (see the
    /// extension's documentation); what fails the check is left for ``readBatch()`` to report.
    mutating func readAhead() throws {
        guard next < queue.count else { return }
        let store = try openCache()
        defer { store.suspend() }
        vetted = [:]
        for id in queue[next..<Swift.min(queue.count, next + countLimit)] {
            guard try store.isPending(id), let (_, bytes) = try store.stateBytes(id) else { continue }
            let state = try store.decode(bytes, id: id)
            guard SyncEngine.incompleteRefusal(state) == nil else { continue }
            vetted[id] = (bytes, WrittenRecord(state))
        }
    }

    /// The request for the page after `reply` (the answer to `request`), to send before the
    /// page is applied — or `nil` when the next request may have to push, restart or present
    /// another incarnation, or no page follows.
    func pullAhead(after reply: SyncReply, to request: OutgoingBatch) -> OutgoingBatch? {
        guard reply.hasMore, !restart, next >= queue.count, heldMerges.isEmpty, reply.rejected.isEmpty,
            reply.removed.isEmpty, let accepted = request.sent.proposedToken
        else { return nil }
        var incarnation = request.sent
        incarnation.token = accepted
        incarnation.proposedToken = accepted
        return OutgoingBatch(
            start: next, refusalsBefore: report.rejected.count, restarting: false, cursor: reply.cursor ?? request.cursor,
            sent: incarnation, confirmsUpTo: request.confirmsUpTo, omitsEchoes: false,
            compactStates: reply.features.contains(.compactStates))
    }

    /// `ahead` if it is still the request this sync would send now (``mayUse(_:)``); else
    /// `nil`, once its answer is in (one request at a time, even one no longer wanted).
    func stillWanted(_ ahead: InFlight?) async throws -> InFlight? {
        guard let ahead else { return nil }
        if try mayUse(ahead.request) { return ahead }
        _ = await ahead.decoded.value
        return nil
    }

    /// Whether `ahead` (from ``pullAhead(after:to:)``) is still the request this sync would
    /// send now: nothing to push, no restart, the cursor and incarnation it assumed.
    func mayUse(_ ahead: OutgoingBatch) throws -> Bool {
        guard hasMore, !restart, next >= queue.count, heldMerges.isEmpty else { return false }
        let store = try openCache()
        defer { store.suspend() }
        guard let replica = store.replica else { return false }
        return store.cursor == ahead.cursor && replica.id == ahead.sent.id && replica.token == ahead.sent.token
            && replica.proposedToken == nil
    }
}
