/// The identity of one write: the replica that made it and that replica's counter at the time.
///
/// Dots are unique: a replica increments its counter for every write, so no two writes anywhere
/// share a dot. A version vector "has seen" a dot when its counter for the dot's replica is at
/// least the dot's counter.
public struct Dot: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The replica that made the write.
    public let replica: String
    /// The replica's counter after the write; always at least 1.
    public let counter: UInt64

    /// Creates a dot.
    public init(replica: String, counter: UInt64) {
        self.replica = replica
        self.counter = counter
    }

    public static func < (lhs: Dot, rhs: Dot) -> Bool {
        if lhs.replica != rhs.replica { return lhs.replica < rhs.replica }
        return lhs.counter < rhs.counter
    }

    public var description: String { "\(replica):\(counter)" }
}
