/// The records a sync pushed or pulled, which ``MergeRedirect`` looks at when the sync ends —
/// while they are few. Past ``limit`` only the fact that there were many is kept, and the
/// redirect looks at every cached customer that may be a merged duplicate instead (as after an
/// interrupted sync, ``SyncEngine/redirectDueFile``): one pass over the customers' states,
/// where the ids of a large first sync (600,000 records) held 60 MB until its end.
struct TouchedRecords {
    /// The most ids kept by default (≈ 6 MB of strings and set).
    static let defaultLimit = 50_000

    /// The most ids kept.
    let limit: Int
    /// The ids touched so far; `nil` once there were more than ``limit``.
    private(set) var ids: Set<String>? = []

    init(limit: Int = Self.defaultLimit) {
        self.limit = limit
    }

    /// Adds `more` (or forgets every id, once there are too many).
    mutating func formUnion(_ more: some Collection<String>) {
        guard var kept = ids else { return }
        ids = nil  // `kept` is the set's only reference while it grows
        kept.formUnion(more)
        if kept.count <= limit { ids = kept }
    }
}
