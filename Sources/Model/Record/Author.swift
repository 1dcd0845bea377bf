/// Who makes a local write, and when: the replica whose counter advances, the user name shown
/// beside the value in conflicts, and the writer's wall-clock time (a display hint only).
///
/// `counterFloor` is the highest counter the replica has minted anywhere (in any record): a
/// new dot's counter is above both it and the record's own counter for the replica, so the
/// replica's counters grow across all its records. That lets a replica tell, from one number,
/// which of its writes came after a given moment (see ``RecordState/reminting(_:above:as:after:)``).
public struct Author: Hashable, Sendable {
    /// The id of the replica making the write.
    public var replica: String
    /// The user name behind the replica, when known.
    public var user: String?
    /// The writer's wall-clock time.
    public var at: Timestamp
    /// The highest counter `replica` has minted so far in any record (0: none, or unknown).
    public var counterFloor: UInt64

    /// Creates an author for one write.
    public init(replica: String, user: String? = nil, at: Timestamp = .now(), counterFloor: UInt64 = 0) {
        self.replica = replica
        self.user = user
        self.at = at
        self.counterFloor = counterFloor
    }
}
