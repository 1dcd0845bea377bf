extension RecordRejection {
    /// Why a pushed record was not written: the `code` of a sync reply's `rejected` entry
    /// (docs/sync-protocol.md §4, §4a, §4b).
    ///
    /// A struct rather than an enum, as postgres-nio's error codes are: a newer server may send a
    /// code this build does not know, which still decodes (and is shown as it came) instead of
    /// failing the whole reply. Match the known ones with the static members:
    /// `rejection.code == .dotReused`, `case .outOfScope:`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code as sent on the wire, e.g. `out_of_scope`.
        public let rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String { rawValue }

        // MARK: The state itself (§4, §8)

        /// The state has the wrong shape or breaks an invariant of the model (§8).
        public static let invalidRecord = Code(rawValue: "invalid_record")
        /// The state, or its merge with the stored one, lacks a field its kind requires.
        public static let incompleteRecord = Code(rawValue: "incomplete_record")
        /// The state, or its merge with the stored one, exceeds ``StateLimits``.
        public static let tooManyEntries = Code(rawValue: "too_many_entries")
        /// The id is stored as the other kind, or the request holds it as both kinds.
        public static let kindMismatch = Code(rawValue: "kind_mismatch")

        // MARK: Scope (§4a)

        /// A new customer without a territory, pushed by a user restricted to territories.
        public static let territoryRequired = Code(rawValue: "territory_required")
        /// A customer created in, or moved to, a territory the user does not hold.
        public static let territoryNotHeld = Code(rawValue: "territory_not_held")
        /// A customer or activity outside the user's territories.
        public static let outOfScope = Code(rawValue: "out_of_scope")
        /// An activity whose customer the server does not have (push customers first).
        public static let unknownCustomer = Code(rawValue: "unknown_customer")

        // MARK: Clocks (§4b)

        /// A clock counter above 2^53 − 1.
        public static let counterOutOfRange = Code(rawValue: "counter_out_of_range")
        /// A delete whose `seen` clock the state's clock does not cover.
        public static let invalidTombstone = Code(rawValue: "invalid_tombstone")
        /// A dot the server holds arrived with other content: another copy of this replica
        /// wrote under the same dots (the client continues as a new incarnation).
        public static let dotReused = Code(rawValue: "dot_reused")
        /// The state raises counters of another user's replica beyond the stored clock; the
        /// rejection carries ``RecordRejection/storedClock`` to re-base on.
        public static let foreignClock = Code(rawValue: "foreign_clock")

        // MARK: Client side

        /// Never sent by the server: `cx` reports it for a state that alone exceeds the
        /// server's body limit (HTTP 413) and stays pending.
        public static let recordTooLarge = Code(rawValue: "record_too_large")
        /// Never sent by the server: `cx` reports it for the tombstone of a merge made on the
        /// laptop whose survivor has not reached the server (it was refused, or not pushed):
        /// the tombstone is held back, pending, so the duplicate's values never stand on a
        /// deleted record alone.
        public static let mergeWaiting = Code(rawValue: "merge_waiting")

        /// Every code the server sends in `rejected` (``recordTooLarge`` and ``mergeWaiting``
        /// are the client's own).
        public static let serverCodes: [Code] = [
            .invalidRecord, .incompleteRecord, .tooManyEntries, .kindMismatch,
            .territoryRequired, .territoryNotHeld, .outOfScope, .unknownCustomer,
            .counterOutOfRange, .invalidTombstone, .dotReused, .foreignClock,
        ]
    }
}
