import CXModel
import CXPostgres
import Logging

/// Reads and writes record states in PostgreSQL: merging pushed states into stored ones within
/// the writer's scope, recording each write in the audit trail, and paging changes out by the
/// change sequence, filtered to the reader's scope.
///
/// **Cursor safety.** Every write transaction takes one transaction-scoped advisory lock before
/// it reads and assigns sequence numbers, and holds it until it commits. Sequence numbers are
/// therefore handed out in commit order: no transaction can commit a number lower than one
/// that is already visible, so a reader paging by `seq > cursor` never skips a change.
/// Concurrent pushes serialise on the lock for the short database part of their work only
/// (validation and decoding happen before), and within one server process they share it:
/// ``PushCoalescer`` commits the pushes waiting at the same time in one transaction.
struct RecordStore: Sendable {
    let pool: PostgresPool

    /// Advisory lock key for the change sequence ("cxseq" in ASCII).
    static let sequenceLockKey: Int64 = 0x63_78_73_65_71

    /// Who pushes: recorded in the audit trail, and whose scope limits the writes.
    struct Writer: Sendable {
        /// `cx.users.id`, or `nil` for the server's own tools (book loader, tests).
        let userID: Int64?
        let userName: String
        let replicaID: String
        let scope: AccessScope
        /// The token check the writer was authenticated by, confirmed in the push's transaction
        /// before it admits or writes anything (``confirmed(atVersion:on:)``); `nil` for the
        /// server's own tools.
        var authentication: Authentication? = nil

        /// An unrestricted writer for the server's own tools and tests.
        static func system(name: String = "cx-server", replica: String = "server") -> Writer {
            Writer(userID: nil, userName: name, replicaID: replica, scope: .unrestricted)
        }
    }

    /// What a push did.
    struct PushOutcome: Sendable {
        /// States merged and written (changed).
        var written = 0
        /// States that changed nothing (already known: retries, duplicates).
        var unchanged = 0
        /// Records refused, with why.
        var rejected: [Rejection] = []
        /// Accepted records the writer's scope does not hold (hand-off edits): the reply lists
        /// them as `removed`.
        var outOfScope: [String] = []
        /// The records the push left exactly as the writer sent them, which a pull may leave out.
        var echoes: Echoes?
        /// Where the database's history stood when the push's transaction began writing (read
        /// under the sequence lock, before any of its writes); `nil` when the request pushed nothing.
        var epoch: ServerEpoch?
        /// The pusher's token check as read again in the push's transaction, when their access
        /// changed after the request was authenticated (the reply and the pull that follow use
        /// its user's scope); `nil` when it had not changed.
        var authentication: Authentication?
    }

    /// Records a push left stored exactly as its writer sent them (nothing else merged in), and
    /// the highest sequence number handed out when it committed. Such a record whose sequence
    /// number is still at most ``throughSequence`` has not changed since: its writer holds it
    /// already, so a pull that follows the push may leave it out (``SyncEnvelope/omitsEchoes``).
    /// Every later write gets a higher number (writers take the sequence lock first).
    struct Echoes: Sendable {
        var ids: [String]
        var throughSequence: Int64
    }

    /// A pushed record the server refused, reported in the sync response.
    typealias Rejection = RecordRejection

    /// A page of changes after a cursor.
    struct Page: Sendable {
        /// The stored states as JSON text, in sequence order.
        var states: [String]
        /// Customers that left the reader's scope: drop them and their activities.
        var removed: [String] = []
        /// The sequence number of the last item in the page (or the input cursor if none).
        var lastSequence: Int64
        var hasMore: Bool
        /// States left out as echoes of the push before the pull (see ``Echoes``).
        var echoes = 0
    }

    static func table(of kind: RecordKind) -> String {
        kind == .customer ? "cx.customers" : "cx.activities"
    }
}

extension AccessScope {
    /// Everything, for the server's own tools.
    static let unrestricted = AccessScope(role: .admin, territories: [], handoffTerritories: [])
}
