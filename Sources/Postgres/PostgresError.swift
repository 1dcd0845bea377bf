/// An error from the PostgreSQL layer: connecting, querying, decoding, the pool or the embedded cluster.
///
/// `message` is written for a person: it says what happened and, where there is one, what to do about it.
/// `code` is for programs that need to react (for example, drop a connection on ``Code/connectionLost``),
/// and `sqlState` carries the server's SQLSTATE when the server reported the error.
public struct PostgresError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The category of the error.
    public var code: Code
    /// The SQLSTATE reported by the server (e.g. `23505` for a unique violation), if the server reported one.
    public var sqlState: SQLState?
    /// A human-readable explanation: what happened and what can be done about it.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The category.
    ///   - message: A human-readable explanation.
    ///   - sqlState: The server's SQLSTATE, if any.
    public init(_ code: Code, _ message: String, sqlState: SQLState? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
    }

    /// `message`, followed by the SQLSTATE when there is one.
    public var description: String {
        if let sqlState {
            return "\(message) (SQLSTATE \(sqlState))"
        }
        return message
    }
}
