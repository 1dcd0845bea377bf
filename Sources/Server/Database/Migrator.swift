import CXPostgres
import Logging

/// Applies pending ``Migration``s in order and records each in `cx.schema_migrations`.
///
/// Runs under a transaction-scoped advisory lock, so several servers starting at once against
/// one database apply each migration exactly once.
struct Migrator {
    let migrations: [Migration]
    let logger: Logger

    init(migrations: [Migration] = Migration.all, logger: Logger) {
        self.migrations = migrations
        self.logger = logger
    }

    /// Applies every migration not yet recorded; returns the versions applied.
    @discardableResult
    func migrate(_ connection: PostgresConnection) throws -> [Int] {
        try connection.executeScript(
            """
            CREATE SCHEMA IF NOT EXISTS cx;
            CREATE TABLE IF NOT EXISTS cx.schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """)
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            let didApply = try connection.transaction { connection in
                try connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
                let done = try connection.query(
                    "SELECT 1 FROM cx.schema_migrations WHERE version = \(migration.version)")
                guard done.isEmpty else { return false }
                try connection.executeScript(migration.sql)
                try connection.query(
                    "INSERT INTO cx.schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))")
                return true
            }
            if didApply {
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }

    /// The versions recorded as applied.
    func appliedVersions(_ connection: PostgresConnection) throws -> [Int] {
        let rows = try connection.query(
            "SELECT version FROM cx.schema_migrations ORDER BY version")
        return try rows.map { try $0.decode("version", as: Int.self) }
    }

    /// Advisory lock key shared by every cx migrator ("cxmigr" in ASCII).
    static let lockKey: Int64 = 0x63_78_6D_69_67_72
}
