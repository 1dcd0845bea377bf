/// The value of a record's deletion register.
///
/// A tombstone (`deleted == true`) remembers the clock it was made under (`seen`); any field
/// write that clock had not seen was concurrent with the delete, which is a conflict rather
/// than a silent loss. A restore (`deleted == false`) supersedes earlier tombstones.
public struct DeletionMark: Hashable, Sendable {
    /// Whether this write deletes (`true`) or restores (`false`) the record.
    public let deleted: Bool
    /// For a tombstone, the record's clock when it was deleted; empty for a restore.
    public let seen: VersionVector

    /// Creates a deletion mark.
    public init(deleted: Bool, seen: VersionVector) {
        self.deleted = deleted
        self.seen = seen
    }
}
