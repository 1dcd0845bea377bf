/// One write held by a multi-value register: the value written, the write's dot, and who wrote
/// it when.
///
/// A register holds one entry normally, and several when concurrent writes conflict.
public struct RegisterEntry<Value: Hashable & Sendable>: Hashable, Sendable {
    /// The value written (for fields, `nil` means the field was unset).
    public let value: Value
    /// The write's identity.
    public let dot: Dot
    /// The writer's wall-clock time (display only).
    public let at: Timestamp
    /// The writer's user name, when known.
    public let user: String?

    /// Creates an entry.
    public init(value: Value, dot: Dot, at: Timestamp, user: String?) {
        self.value = value
        self.dot = dot
        self.at = at
        self.user = user
    }

    /// Display precedence among concurrent entries: latest `at` wins, ties broken by replica id
    /// and then counter, so every replica picks the same one.
    func displaysBefore(_ other: RegisterEntry) -> Bool {
        if at != other.at { return at > other.at }
        if dot.replica != other.dot.replica { return dot.replica > other.dot.replica }
        return dot.counter > other.dot.counter
    }
}

/// A field value as stored in a register: the canonical text of the value, or `nil` for unset.
public typealias FieldEntry = RegisterEntry<String?>
