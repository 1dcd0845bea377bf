/// Bounds on the size of one record state, far above what honest replicas reach, so that no
/// single state can make a merge (done under the server's push lock) take seconds.
///
/// A field register holds one entry per concurrent writer of the field, a clock one counter per
/// replica that ever wrote the record, a tag one dot per concurrent add. Real records have 1–4 of
/// each; the limits leave two orders of magnitude of headroom. Documented in
/// docs/sync-protocol.md ("Limits").
public enum StateLimits {
    /// Most entries in one field register (concurrent values of one field).
    public static let maximumEntriesPerField = 64
    /// Most replicas in a clock (the record's clock or a tombstone's `seen` clock).
    public static let maximumReplicasPerClock = 256
    /// Most distinct tags on one record.
    public static let maximumTags = 1_000
    /// Most add dots of one tag (concurrent adds of the same tag).
    public static let maximumDotsPerTag = 64
    /// Most entries in the deletion register (concurrent deletes and restores).
    public static let maximumDeletionEntries = 64
}

extension RecordState {
    /// What in this state exceeds ``StateLimits``, or `nil` when it is within them.
    ///
    /// The merge of two states within the limits can exceed them (each side may hold 64
    /// concurrent entries of a field); the server checks merged states too.
    public func limitViolation() -> String? {
        if clock.entries.count > StateLimits.maximumReplicasPerClock {
            return "its clock has \(clock.entries.count) replicas; at most \(StateLimits.maximumReplicasPerClock) are accepted"
        }
        for register in fields where register.entries.count > StateLimits.maximumEntriesPerField {
            return "field \(register.name) has \(register.entries.count) concurrent values; at most \(StateLimits.maximumEntriesPerField) are accepted — resolve the conflict"
        }
        if tags.count > StateLimits.maximumTags {
            return "it has \(tags.count) tags; at most \(StateLimits.maximumTags) are accepted"
        }
        for register in tags where register.dots.count > StateLimits.maximumDotsPerTag {
            return "tag '\(register.tag)' has \(register.dots.count) concurrent adds; at most \(StateLimits.maximumDotsPerTag) are accepted"
        }
        if deletion.count > StateLimits.maximumDeletionEntries {
            return "its deletion register has \(deletion.count) entries; at most \(StateLimits.maximumDeletionEntries) are accepted"
        }
        for entry in deletion where entry.value.seen.entries.count > StateLimits.maximumReplicasPerClock {
            return "a deletion's 'seen' clock has \(entry.value.seen.entries.count) replicas; at most \(StateLimits.maximumReplicasPerClock) are accepted"
        }
        return nil
    }
}
