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
