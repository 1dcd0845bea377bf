/// Checks a pushed state's causal metadata against what the receiver stores, so no client can
/// make the server (and through it every replica) take writes as seen that never reached it.
///
/// The merge trusts clocks: a clock that claims a write hides that write from every replica
/// that merges it. A receiver therefore accepts a state only when
/// - every counter is at most ``VersionVector/maximumCounter`` (no overflow downstream);
/// - every tombstone's `seen` is covered by the state's clock (a delete cannot claim to have
///   seen writes its state never had, which would swallow a concurrent edit);
/// - no dot the receiver holds arrives with different content (a dot names one write);
/// - counters advance beyond the stored clock only for replicas the pusher may speak for
///   (its own), which the caller checks with ``advancedReplicas(beyond:)``.
public enum CausalIntegrity {
    /// Why a state was refused; `code` is the sync protocol's rejection code.
    public struct Problem: Error, Hashable, Sendable {
        /// The rejection code: ``RecordRejection/Code/counterOutOfRange`` or
        /// ``RecordRejection/Code/invalidTombstone``.
        public let code: RecordRejection.Code
        /// What happened and what to do, for people.
        public let message: String
    }

    /// Checks what a state must satisfy on its own.
    public static func check(_ state: RecordState) -> Problem? {
        for dot in state.clock.entries where dot.counter > VersionVector.maximumCounter {
            return Problem(
                code: .counterOutOfRange,
                message: "record \(state.id): the counter \(dot.counter) of replica '\(dot.replica)' exceeds 2^53−1; no real replica writes that often")
        }
        for entry in state.deletion where entry.value.deleted {
            guard state.clock.dominates(entry.value.seen) else {
                return Problem(
                    code: .invalidTombstone,
                    message: "record \(state.id): the delete \(entry.dot) claims to have seen \(entry.value.seen), more than the record's clock \(state.clock)")
            }
        }
        return nil
    }

    /// The first dot `pushed` holds with different content than `stored` holds for it.
    public static func reusedDot(in pushed: RecordState, comparedWith stored: RecordState) -> Dot? {
        var storedEntries: [Dot: FieldEntry] = [:]
        var storedFieldOfDot: [Dot: String] = [:]
        for register in stored.fields {
            for entry in register.entries {
                storedEntries[entry.dot] = entry
                storedFieldOfDot[entry.dot] = register.name
            }
        }
        for register in pushed.fields {
            for entry in register.entries {
                if let held = storedEntries[entry.dot], held != entry || storedFieldOfDot[entry.dot] != register.name {
                    return entry.dot
                }
            }
        }
        var storedTagOfDot: [Dot: String] = [:]
        for tag in stored.tags { for dot in tag.dots { storedTagOfDot[dot] = tag.tag } }
        for tag in pushed.tags {
            for dot in tag.dots {
                if let held = storedTagOfDot[dot], held != tag.tag { return dot }
                if storedEntries[dot] != nil { return dot }
            }
        }
        let storedDeletion = Dictionary(stored.deletion.map { ($0.dot, $0) }, uniquingKeysWith: { first, _ in first })
        for entry in pushed.deletion {
            if let held = storedDeletion[entry.dot], held != entry { return entry.dot }
            if storedEntries[entry.dot] != nil || storedTagOfDot[entry.dot] != nil { return entry.dot }
        }
        return nil
    }

    /// The replicas whose counter in `pushed` is above the stored state's (every replica of
    /// `pushed` when nothing is stored): the writes the push claims that the receiver lacks.
    public static func advancedReplicas(in pushed: RecordState, beyond stored: RecordState?) -> [String] {
        pushed.clock.entries.filter { $0.counter > (stored?.clock[$0.replica] ?? 0) }.map(\.replica)
    }
}
