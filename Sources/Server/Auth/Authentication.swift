import CXPostgres

/// A bearer token's check: the user it authenticates, read at one access version
/// (``Migration0021AccessVersion``), and the token to read it again with.
///
/// A check may be served from ``AuthenticationCache``; a step that reads the database anyway
/// confirms it there (``confirmed(atVersion:on:)``) — the push's transaction before it admits or
/// writes anything, a pull before it reads — so no request acts on access that changed before
/// its own statements ran.
struct Authentication: Sendable {
    /// The user, with their scope as of ``accessVersion``.
    let user: AuthenticatedUser
    /// The token the check was made for.
    let token: AccessToken
    /// The access version the check was read at.
    let accessVersion: Int64
    /// How long the check holds if nothing changes in the database: until the token expires or
    /// a hand-off window closes, whichever comes first (`nil`: neither will).
    let holdsFor: Duration?

    /// The statement that reads the current access version (a push sends it with its `BEGIN`,
    /// ``PostgresConnection/transaction(opening:_:)``).
    static let currentVersionSQL = "SELECT version FROM cx.access_version"

    /// The version in the rows of ``currentVersionSQL``.
    static func version(in rows: PostgresRows) throws -> Int64 {
        guard let row = rows.first else { throw PostgresError(.queryFailed, "cx.access_version has no row (migration 21)") }
        return try row.decode("version", as: Int64.self)
    }

    /// This check as it stands at access version `current`: itself when nothing changed since
    /// it was read, otherwise read again.
    /// - Throws: ``APIError/unauthorized`` when the token no longer authenticates (revoked,
    ///   expired, its user removed).
    func confirmed(atVersion current: Int64, on connection: PostgresConnection) throws -> Authentication {
        guard current != accessVersion else { return self }
        guard let fresh = try UserStore.authentication(of: token, on: connection) else { throw APIError.unauthorized }
        return fresh
    }
}
