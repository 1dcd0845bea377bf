import CXModel

/// A state's journal line, insight facts and ``WrittenRecord``, worked out ahead of the commit
/// that writes it — by the task that decodes a pulled page, on both cores, while the sync
/// applies the page before it (a first sync writes every pulled state as it arrives, and this
/// encoding was half of applying a page on the sync's one thread).
///
/// Exactly what ``CacheStore/commit(_:acks:drops:cursor:resetsCursor:scope:rescoping:synced:replica:)``
/// would produce for ``CacheStore/Change(state:pending:)`` with the same state and mark
/// (a ``CacheStore/Change`` drops it as soon as either changes).
struct EncodedPut: Sendable {
    let state: RecordState
    let pending: Bool
    /// The journal's put line (``CacheStore/putLine(_:)``).
    let line: [UInt8]
    /// The facts line the store keeps for the record (``InsightFacts/jsonBytes()``).
    let facts: [UInt8]
    let written: WrittenRecord

    init(_ state: RecordState, pending: Bool) {
        self.state = state
        self.pending = pending
        line = CacheStore.putLine(CacheStore.Change(state: state, pending: pending))
        facts = InsightFacts(state).jsonBytes()
        written = WrittenRecord(state)
    }
}
