/// The full replicated state of one record: its version vector, every field's register, the
/// add-wins tag set and the deletion register.
///
/// States are values. Local operations (`set`, `addTag`, `delete`, …) advance the writing
/// replica's counter and record a new dot; ``merging(_:)`` joins two states of the same record
/// and is commutative, associative and idempotent, so replicas that have exchanged the same
/// states hold equal values, whatever the order and however often they were delivered.
///
/// The stored form is canonical (registers sorted by name, entries by dot, no empty registers),
/// so equal states are `==` and encode to identical JSON.
public struct RecordState: Hashable, Sendable {
    /// The record id: a lowercase UUID.
    public let id: String
    /// Customer or activity.
    public let kind: RecordKind
    /// Every write this state has seen.
    public internal(set) var clock: VersionVector
    /// One register per field ever written, sorted by field name.
    public internal(set) var fields: [FieldRegister]
    /// The live tags and their add dots, sorted by tag.
    public internal(set) var tags: [TagRegister]
    /// The deletion register: tombstones and restores, sorted by dot.
    public internal(set) var deletion: [RegisterEntry<DeletionMark>]

    /// Creates a state from its parts, which must already be canonical; use
    /// ``RecordState/new(kind:id:fields:tags:by:)`` to create a record, and the JSON decoder to
    /// read one.
    init(
        id: String, kind: RecordKind, clock: VersionVector, fields: [FieldRegister],
        tags: [TagRegister], deletion: [RegisterEntry<DeletionMark>]
    ) {
        self.id = id
        self.kind = kind
        self.clock = clock
        self.fields = fields
        self.tags = tags
        self.deletion = deletion
    }

    /// The register of `field`, if the field was ever written.
    public func register(_ field: String) -> FieldRegister? {
        guard let index = fieldIndex(field) else { return nil }
        return fields[index]
    }

    func fieldIndex(_ name: String) -> Int? {
        var low = 0, high = fields.count
        while low < high {
            let mid = (low + high) / 2
            if fields[mid].name == name { return mid }
            if fields[mid].name < name { low = mid + 1 } else { high = mid }
        }
        return nil
    }

    /// Every dot held anywhere in the state (fields, tags, deletion register).
    var allDots: [Dot] {
        fields.flatMap { $0.entries.map(\.dot) } + tags.flatMap(\.dots) + deletion.map(\.dot)
    }
}
