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

    /// Whether concurrent writes left more than one value.
    public var isConflicted: Bool { entries.count > 1 }
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
