/// A named multi-value register: the entries currently held for one field of a record.
public struct FieldRegister: Hashable, Sendable {
    /// The field name (`name`, `phone`, `extra.industry`, …).
    public let name: String
    /// The entries, sorted by dot; more than one means a conflict.
    public internal(set) var entries: [FieldEntry]

    /// Creates a register.
    public init(name: String, entries: [FieldEntry]) {
        self.name = name
        self.entries = entries
    }

    /// The entry every replica displays: latest `at`, ties by replica id.
    public var displayedEntry: FieldEntry? {
        guard var best = entries.first else { return nil }
        for entry in entries.dropFirst() where entry.displaysBefore(best) {
            best = entry
        }
        return best
    }

    /// Whether concurrent writes left more than one *different* value.
    ///
    /// Two concurrent writes of the same value (two reps typing the same phone number, or one
    /// write re-minted under a new replica incarnation) are not a conflict: there is nothing to
    /// decide. The register still holds both entries until the next write supersedes them.
    public var isConflicted: Bool {
        guard let first = entries.first else { return false }
        return entries.dropFirst().contains { $0.value != first.value }
    }

    /// One entry per distinct value, the displayed one first and the rest in display order.
    public var candidates: [FieldEntry] {
        var seen: [String?] = []
        var result: [FieldEntry] = []
        for entry in entries.sorted(by: { $0.displaysBefore($1) }) where !seen.contains(entry.value) {
            seen.append(entry.value)
            result.append(entry)
        }
        return result
    }
}

/// A tag of the record's add-wins tag set, present while it has at least one add dot.
public struct TagRegister: Hashable, Sendable {
    /// The tag text.
    public let tag: String
    /// The dots of the adds that are still live, sorted.
    public internal(set) var dots: [Dot]

    /// Creates a tag register.
    public init(tag: String, dots: [Dot]) {
        self.tag = tag
        self.dots = dots
    }
}
