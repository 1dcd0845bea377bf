import CXModel
import CXPostgres

/// Decides, inside a push transaction, whether each pushed state's causal metadata may be
/// believed (see ``CausalIntegrity``): bounded counters, honest tombstones, no dot reused with
/// other content, and counters beyond the stored clock only for replicas the pusher speaks for.
///
/// A replica speaks for itself, for the other replicas of its user (earlier incarnations of
/// the same laptop's cache), and for replicas the server has never seen (their writes can only
/// come from the laptop that made them: a replica id is random and appears nowhere until its
/// writes arrive). Those are registered to the pusher's user when the push writes them.
struct ClockAuthority {
    private let writer: RecordStore.Writer
    private let owners: [String: Int64?]
    private var newReplicas: Set<String> = []

    /// Decides with `owners` already read: they must cover every replica the pushed states
    /// advance beyond the stored clocks (``PushReads`` reads them for a whole transaction).
    init(writer: RecordStore.Writer, owners: [String: Int64?]) {
        self.writer = writer
        self.owners = owners
    }

    /// The never-seen replicas accepted states carry, registered to the pusher's user by
    /// ``registerNewReplicas(on:)``.
    var registered: [String] { newReplicas.sorted() }

    /// Why `state` may not be merged over `stored`, or `nil` when it may; `checkedAlone`: the
    /// state already passed ``CausalIntegrity/check(_:)`` (which reads nothing else).
    func refusal(_ state: RecordState, stored: RecordState?, checkedAlone: Bool = false) -> RecordRejection? {
        if !checkedAlone, let problem = CausalIntegrity.check(state) {
            return RecordRejection(id: state.id, code: problem.code, message: problem.message)
        }
        if let stored, let dot = CausalIntegrity.reusedDot(in: state, comparedWith: stored) {
            return RecordRejection(
                id: state.id, code: .dotReused,
                message: "record \(state.id): the write \(dot) is already stored with other content (this cx home was restored or copied); cx re-sends the change as a new replica")
        }
        guard let userID = writer.userID else { return nil }
        for replica in CausalIntegrity.advancedReplicas(in: state, beyond: stored) where replica != writer.replicaID {
            switch owners[replica] {
            case .none: continue  // never seen: registered to this user if the write is accepted
            case .some(.some(let owner)) where owner == userID: continue
            default:
                return RecordRejection(
                    id: state.id, code: .foreignClock,
                    message: "record \(state.id) claims writes of replica '\(replica)' that the server never received from it; only a replica's own user can send them",
                    storedClock: stored?.clock ?? VersionVector())
            }
        }
        return nil
    }

    /// Notes the never-seen replicas an accepted state carries.
    mutating func accept(_ state: RecordState, stored: RecordState?) {
        guard writer.userID != nil else { return }
        for replica in CausalIntegrity.advancedReplicas(in: state, beyond: stored) where owners[replica] == nil {
            newReplicas.insert(replica)
        }
    }

    /// Registers the never-seen replicas of accepted states to the pusher's user.
    func registerNewReplicas(on connection: PostgresConnection) throws {
        try ReplicaRegistry.register(newReplicas.sorted(), to: writer, on: connection)
    }
}
