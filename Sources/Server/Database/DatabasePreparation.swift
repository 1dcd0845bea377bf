import CXPostgres
import Logging

/// Brings a database up to date for serving: applies pending migrations and, on an empty
/// database, creates the `admin` user.
///
/// - Returns: the admin's one-time token when it was just created, else `nil`.
public func prepareDatabase(_ connection: PostgresConnection, logger: Logger) throws -> String? {
    try Migrator(logger: logger).migrate(connection)
    return try FirstStart.createAdminIfEmpty(on: connection)
}

/// Creates a user and issues a token for it, for tools such as `cx-bench`; returns the token.
public func createUserWithToken(
    _ name: String, role: UserRole, territories: [String], on connection: PostgresConnection
) throws -> String {
    try UserStore.addUser(name, role: role, territories: territories, on: connection)
    return try UserStore.issueToken(for: name, on: connection)
}
