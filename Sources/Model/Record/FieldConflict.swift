/// A field whose concurrent writes left more than one value, with every candidate.
public struct FieldConflict: Hashable, Sendable {
    /// One value in conflict and who wrote it when.
    public struct Candidate: Hashable, Sendable {
        /// The value (`nil` when the write unset the field; `keep`/`delete` for deletions).
        public let value: String?
        /// The replica that wrote it.
        public let replica: String
        /// The user behind that replica, when known.
        public let user: String?
        /// The writer's wall-clock time.
        public let at: Timestamp
    }

    /// The field name, or `deleted` for a delete/edit conflict.
    public let field: String
    /// The candidates in a fixed order shared by every replica (oldest first; for `deleted`,
    /// `keep` then `delete`), numbered from 1 for `resolve --pick`.
    public let candidates: [Candidate]
}
