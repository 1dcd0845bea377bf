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
/// `DATABASE_URL`, or libpq's `PG*` variables), or else the embedded cluster in a data directory.
///
/// Only `serve` creates an embedded cluster. Admin commands use an existing one — through the
/// socket of the running server, or started and stopped around the command when no server
/// runs — and fail with ``DatabaseNotFound`` rather than create a second, empty database
/// beside the one the server uses.
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
            "Directory of the embedded PostgreSQL cluster (default: $CX_SERVER_DATA_DIR; for admin commands, else that of the "
                + "`cx-server serve` running for this user; else $XDG_DATA_HOME/cx-server, or /var/lib/cx-server as root).",
            valueName: "dir"))
    var dataDirectory: String?

    /// The environment variable naming the data directory when `--data-dir` is not given.
    static let dataDirectoryVariable = "CX_SERVER_DATA_DIR"

    /// Who opens the database: `serve` may create the embedded cluster, admin commands may not.
    enum Purpose: Sendable {
        case serve
        case admin
    }

    /// The database chosen by the options and environment.
    enum Target {
        case external(String)
        case embedded(EmbeddedPostgres)
    }

    /// Picks the database (see docs/server.md, "Which database").
    ///
    /// - Throws: ``DatabaseNotFound`` for an admin command whose embedded cluster does not exist,
    ///   or when several running servers make the choice ambiguous.
    func target(for purpose: Purpose, logger: Logger) throws(DatabaseNotFound) -> Target {
        let environment = ProcessInfo.processInfo.environment
        if let url = databaseURL ?? environment["DATABASE_URL"], !url.isEmpty {
            return .external(url)
        }
        let fromEnvironment = environment[Self.dataDirectoryVariable].flatMap { $0.isEmpty ? nil : $0 }
        if dataDirectory == nil, fromEnvironment == nil, ["PGHOST", "PGDATABASE", "PGSERVICE"].contains(where: { environment[$0] != nil }) {
            // libpq's own environment variables configure the connection, as in psql.
            return .external("")
        }
        let (directory, source) = try dataDirectoryChoice(for: purpose, environmentValue: fromEnvironment)
        let cluster = EmbeddedPostgres(dataDirectory: directory, logger: logger)
        if purpose == .admin, !FileManager.default.fileExists(atPath: cluster.clusterDirectory + "/PG_VERSION") {
            throw DatabaseNotFound(.noCluster(dataDirectory: cluster.dataDirectory, source: source))
        }
        return .embedded(cluster)
    }

    /// The data directory and where it came from: `--data-dir`, `CX_SERVER_DATA_DIR`, the
    /// running server (admin commands only), or the default.
    private func dataDirectoryChoice(
        for purpose: Purpose, environmentValue: String?
    ) throws(DatabaseNotFound) -> (String, DatabaseNotFound.Source) {
        if let dataDirectory { return (dataDirectory, .option) }
        if let environmentValue { return (environmentValue, .environment) }
        if purpose == .admin {
            let running = RunningServerRecord.running()
            let databases = Set(running.map { $0.dataDirectory ?? "" })
            if databases.count > 1 { throw DatabaseNotFound(.ambiguous(running)) }
            if let only = running.first {
                guard let directory = only.dataDirectory else { throw DatabaseNotFound(.externalServer(only)) }
                return (directory, .runningServer(only))
            }
        }
        return (Self.defaultDataDirectory(), .defaultDirectory)
    }

    static func defaultDataDirectory() -> String {
        if geteuid() == 0 { return "/var/lib/cx-server" }
        let environment = ProcessInfo.processInfo.environment
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/cx-server" }
        return (environment["HOME"] ?? ".") + "/.local/share/cx-server"
    }

    /// The database options to repeat in a hint printed for the user (`--data-dir X` when one
    /// was given), so a suggested command reaches the same database; empty when the defaults do.
    var hintArguments: String {
        if let databaseURL { return " --database-url " + ShellWords.quoted(databaseURL) }
        if let dataDirectory { return " --data-dir " + ShellWords.quoted(dataDirectory) }
        return ""
    }

    /// Opens the database of an admin command (starting the embedded cluster if it exists but
    /// is not running), applies pending migrations, runs `body` on one connection, and stops
    /// the cluster again if it was started here.
    func withMigratedConnection<T>(logger: Logger, _ body: (PostgresConnection) throws -> T) throws -> T {
        let opened = try open(for: .admin, logger: logger)
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

    /// Opens the chosen database, starting the embedded cluster if needed (and, for `serve`,
    /// creating it on first start).
    func open(for purpose: Purpose, logger: Logger) throws -> OpenDatabase {
        switch try target(for: purpose, logger: logger) {
        case .external(let url):
            return OpenDatabase(connectionString: url, embedded: nil)
        case .embedded(let cluster):
            logger.info("using the embedded PostgreSQL", metadata: ["data_dir": "\(cluster.dataDirectory)"])
            try cluster.start()
            return OpenDatabase(connectionString: cluster.connectionString, embedded: cluster)
        }
    }
}
