/// Who makes a local write, and when: the replica whose counter advances, the user name shown
/// beside the value in conflicts, and the writer's wall-clock time (a display hint only).
public struct Author: Hashable, Sendable {
    /// The id of the replica making the write.
    public var replica: String
    /// The user name behind the replica, when known.
    public var user: String?
    /// The writer's wall-clock time.
    public var at: Timestamp

    /// Creates an author for one write.
    public init(replica: String, user: String? = nil, at: Timestamp = .now()) {
        self.replica = replica
        self.user = user
        self.at = at
    }
}
