import CXModel

/// What a sync's last step (``MergeRedirect``) needs to know of a record this process wrote,
/// kept from the write: its kind, whether it names the survivor of a merge, and an activity's
/// customer. A first sync writes every record it touches; reading each back from the cache (a
/// binary search of the snapshot index once a compaction has moved it) and decoding every
/// activity again cost a third of it.
///
/// Kept by ``CacheStore`` for the records it committed (and for pushed records a sync decoded
/// and found unchanged when their push was acknowledged, ``CacheStore/remember(_:for:)``), and
/// forgotten as soon as the journal holds lines another process wrote (they may have replaced
/// the record).
struct WrittenRecord: Sendable {
    var kind: RecordKind
    /// The state names a survivor (``RecordState/mergedInto``).
    var namesSurvivor: Bool
    /// An activity's displayed `customer_id`.
    var customerID: String?

    init(_ state: RecordState) {
        kind = state.kind
        namesSurvivor = state.mergedInto != nil
        customerID = state.kind == .activity ? state.displayedValue("customer_id") : nil
    }
}
