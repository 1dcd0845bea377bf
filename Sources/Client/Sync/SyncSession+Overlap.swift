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
///   a reply is in — before its states are decoded (``pullAhead(after:to:)``), or, for a reply
///   to such a request, from a task of its own while the sync still applies the page before
///   (``chain(after:with:)``) — so the server reads a page while `cx` decodes and applies the
///   ones before it (docs/benchmarks.md, "A first sync that keeps the task pool free"). Such a
///   request pushes nothing and proposes no new
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
        guard pullsOnly else { return nil }
        return Self.pullRequest(after: reply, to: request, at: next)
    }


    /// Whether the next request may only pull: no restart, nothing left to push or held.
    var pullsOnly: Bool { !restart && next >= queue.count && heldMerges.isEmpty }

    /// The request pulling the page after `reply` (the answer to `request`) under the token the
    /// server just accepted, if the reply allows one: more pages follow, and nothing was refused
    /// or removed (which the page must be applied for). What the session must allow too is
    /// ``pullsOnly``; `start` is the session's ``next`` when it decided so.
    static func pullRequest(after reply: SyncReply, to request: OutgoingBatch, at start: Int) -> OutgoingBatch? {
        guard reply.hasMore, reply.rejected.isEmpty, reply.removed.isEmpty, let accepted = request.sent.proposedToken else { return nil }
        var incarnation = request.sent
        incarnation.token = accepted
        incarnation.proposedToken = accepted
        // The receipts of the sync's pushes ahead go on until a page has passed them all.
        return OutgoingBatch(
            start: start, restarting: false, cursor: reply.cursor ?? request.cursor,
            sent: incarnation, confirmsUpTo: request.confirmsUpTo, omitsEchoes: request.omitsEchoes && !request.echoReceipts.isEmpty,
            compactStates: reply.features.contains(.compactStates), echoReceipts: request.echoReceipts)
    }

    /// The pull request after `ahead` (a request from ``pullAhead(after:to:)``), sent by a task
    /// of its own as soon as `ahead`'s reply is in and allows one (``pullRequest(after:to:at:)``):
    /// the server then reads that page while this sync still decodes and applies the pages
    /// before it, instead of waiting for them. Still one request at a time at the server: it
    /// goes out only once the one before it is answered. Like `ahead` it is used only if it is
    /// still what the sync would send (``mayUse(_:)``), and drained otherwise (``drain(_:)``).
    func chain(after ahead: InFlight, with client: some SyncTransport) -> Task<InFlight?, Never>? {
        guard pullsOnly else { return nil }
        let sender = sender, start = next
        return Task {
            guard case .success(let reply) = await ahead.answer.value,
                let next = Self.pullRequest(after: reply, to: ahead.request, at: start)
            else { return nil }
            return sender.send(next, with: client)
        }
    }

    /// `ahead` if it is still the request this sync would send now (``mayUse(_:)``); else
    /// `nil`, once its answer is in (one request at a time, even one no longer wanted) and the
    /// request chained after it (`chained`, ``chain(after:with:)``) is answered too.
    func stillWanted(_ ahead: InFlight?, chained: inout Task<InFlight?, Never>?) async throws -> InFlight? {
        guard let ahead else {
            await Self.drain(chained.take())
            return nil
        }
        if try mayUse(ahead.request) { return ahead }
        _ = await ahead.decoded.value
        await Self.drain(chained.take())
        return nil
    }

    /// Waits for the answer to a chained request no longer wanted (if one went out).
    static func drain(_ chained: Task<InFlight?, Never>?) async {
        guard let chained, let sent = await chained.value else { return }
        _ = await sent.decoded.value
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
