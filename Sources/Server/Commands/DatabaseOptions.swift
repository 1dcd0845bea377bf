import ArgumentParser
import CXEmbeddedPostgres
import CXPostgres
import Logging

#if canImport(Glibc)
import Glibc
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `--database-url` / `--data-dir`, shared by every subcommand: an existing PostgreSQL (URL,
/// `DATABASE_URL`, or libpq's `PG*` variables), or else the embedded cluster in the data
/// directory — started if it is not running, reused through its socket if it is.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL URL or libpq keywords (default: $DATABASE_URL; else an embedded cluster).",
            valueName: "url"))
    var databaseURL: String?

    @Option(
        name: .customLong("data-dir"),
        help: ArgumentHelp(
            "Directory of the embedded PostgreSQL cluster (default: $XDG_DATA_HOME/cx-server, or /var/lib/cx-server as root).",
            valueName: "dir"))
    var dataDirectory: String?

    /// The database chosen by the options and environment.
    enum Target {
        case external(String)
        case embedded(EmbeddedPostgres)
    }

    func target(logger: Logger) -> Target {
        let environment = ProcessInfo.processInfo.environment
        if let url = databaseURL ?? environment["DATABASE_URL"], !url.isEmpty {
            return .external(url)
        }
        if dataDirectory == nil, ["PGHOST", "PGDATABASE", "PGSERVICE"].contains(where: { environment[$0] != nil }) {
            // libpq's own environment variables configure the connection, as in psql.
            return .external("")
        }
        return .embedded(EmbeddedPostgres(dataDirectory: dataDirectory ?? Self.defaultDataDirectory(), logger: logger))
    }

    static func defaultDataDirectory() -> String {
        if geteuid() == 0 { return "/var/lib/cx-server" }
        let environment = ProcessInfo.processInfo.environment
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/cx-server" }
        return (environment["HOME"] ?? ".") + "/.local/share/cx-server"
    }

    /// Opens the database (starting the embedded cluster if needed), applies pending
    /// migrations, runs `body` on one connection, and stops the cluster again if it was
    /// started here.
    func withMigratedConnection<T>(logger: Logger, _ body: (PostgresConnection) throws -> T) throws -> T {
        let opened = try open(logger: logger)
        defer { opened.close(logger: logger) }
        let connection = try PostgresConnection(connectionString: opened.connectionString, logger: logger)
        defer { connection.close() }
        try Migrator(logger: logger).migrate(connection)
        return try body(connection)
    }

    /// A database ready for connections, and how to let go of it.
    struct OpenDatabase: Sendable {
        let connectionString: String
        let embedded: EmbeddedPostgres?

        func close(logger: Logger) {
            do {
                try embedded?.stop()
            } catch {
                logger.error("stopping the embedded PostgreSQL failed", metadata: ["error": "\(error)"])
            }
        }
    }

    func open(logger: Logger) throws -> OpenDatabase {
        switch target(logger: logger) {
        case .external(let url):
            return OpenDatabase(connectionString: url, embedded: nil)
        case .embedded(let cluster):
            logger.info("using the embedded PostgreSQL", metadata: ["data_dir": "\(cluster.dataDirectory)"])
            try cluster.start()
            return OpenDatabase(connectionString: cluster.connectionString, embedded: cluster)
        }
    }
}
