extension RecordState {
    /// The pseudo-field naming a delete/edit conflict in ``conflicts`` and ``resolve(_:to:by:)``.
    public static let deletedPseudoField = "deleted"

    /// The value every replica displays for `field`: the latest write, ties broken by replica
    /// id; `nil` when never set or unset.
    public func displayedValue(_ field: String) -> String? {
        register(field)?.displayedEntry?.value ?? nil
    }

    /// Every field with a displayed value, sorted by name.
    public var displayedFields: [(name: String, value: String)] {
        fields.compactMap { register in
            guard let value = register.displayedEntry?.value else { return nil }
            return (register.name, value)
        }
    }

    /// The live tags, sorted.
    public var tagNames: [String] { tags.map(\.tag) }

    /// Whether the record is live, deleted, or in a delete/edit conflict.
    public var deletionState: DeletionState {
        let tombstones = deletion.filter(\.value.deleted)
        if tombstones.isEmpty { return .live }
        if tombstones.count != deletion.count { return .conflicted }
        return unseenByTombstones(tombstones).isEmpty ? .deleted : .conflicted
    }

    /// Whether the record is deleted (and not in conflict); conflicted records stay visible.
    public var isDeleted: Bool { deletionState == .deleted }

    /// Whether any field, or the record's deletion, is in conflict.
    public var hasConflicts: Bool {
        fields.contains(where: \.isConflicted) || deletionState == .conflicted
    }

    /// Every conflict with all its candidates, fields sorted by name, a delete/edit conflict
    /// (field `deleted`) first.
    public var conflicts: [FieldConflict] {
        var result: [FieldConflict] = []
        if deletionState == .conflicted {
            result.append(deletionConflict())
        }
        for register in fields where register.isConflicted {
            let ordered = register.candidates.reversed()
            result.append(
                FieldConflict(
                    field: register.name,
                    candidates: ordered.map {
                        .init(value: $0.value, replica: $0.dot.replica, user: $0.user, at: $0.at)
                    }))
        }
        return result
    }

    /// Field entries and tag adds that none of the given tombstones had seen: edits concurrent
    /// with the delete.
    private func unseenByTombstones(_ tombstones: [RegisterEntry<DeletionMark>]) -> [(dot: Dot, at: Timestamp, user: String?)] {
        let seen = tombstones.dropFirst().reduce(tombstones[0].value.seen) { $0.merging($1.value.seen) }
        var unseen: [(dot: Dot, at: Timestamp, user: String?)] = []
        for register in fields {
            for entry in register.entries where !seen.contains(entry.dot) {
                unseen.append((entry.dot, entry.at, entry.user))
            }
        }
        for tag in tags {
            for dot in tag.dots where !seen.contains(dot) {
                unseen.append((dot, Timestamp(millisecondsSinceEpoch: 0), nil))
            }
        }
        return unseen
    }

    private func deletionConflict() -> FieldConflict {
        let tombstones = deletion.filter(\.value.deleted)
        let restores = deletion.filter { !$0.value.deleted }
        let latestDelete = tombstones.min { $0.displaysBefore($1) }!
        var keepers = restores.map { (dot: $0.dot, at: $0.at, user: $0.user) }
        keepers += unseenByTombstones(tombstones)
        let latestKeep = keepers.min { a, b in
            a.at != b.at ? a.at > b.at : (a.dot.replica != b.dot.replica ? a.dot.replica > b.dot.replica : a.dot.counter > b.dot.counter)
        }!
        return FieldConflict(
            field: RecordState.deletedPseudoField,
            candidates: [
                .init(value: "keep", replica: latestKeep.dot.replica, user: latestKeep.user, at: latestKeep.at),
                .init(
                    value: "delete", replica: latestDelete.dot.replica, user: latestDelete.user,
                    at: latestDelete.at),
            ])
    }
}
