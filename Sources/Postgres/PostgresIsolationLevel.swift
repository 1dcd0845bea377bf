/// A transaction isolation level for ``PostgresConnection/transaction(isolation:_:)``.
public enum PostgresIsolationLevel: Sendable, Hashable {
    /// `READ COMMITTED`, PostgreSQL's default: each statement sees data committed before it began.
    case readCommitted
    /// `REPEATABLE READ`: the whole transaction sees one snapshot; concurrent updates fail with SQLSTATE 40001.
    case repeatableRead
    /// `SERIALIZABLE`: as if transactions ran one at a time; retry on SQLSTATE 40001.
    case serializable

    /// The SQL spelling, used after `BEGIN ISOLATION LEVEL`.
    var sql: String {
        switch self {
        case .readCommitted: "READ COMMITTED"
        case .repeatableRead: "REPEATABLE READ"
        case .serializable: "SERIALIZABLE"
        }
    }
}
