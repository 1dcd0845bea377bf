/// Whether a record is live, deleted, or caught between a delete and a concurrent edit.
public enum DeletionState: String, Hashable, Sendable {
    /// Not deleted (never deleted, or restored).
    case live
    /// Deleted, and no write the deleter had not seen remains.
    case deleted
    /// A delete concurrent with an edit or a restore: the record stays visible until a person
    /// decides (`resolve ID deleted keep|delete`).
    case conflicted
}
