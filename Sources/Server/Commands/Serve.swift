import ArgumentParser
import CXEmbeddedPostgres
import Foundation
import CXPostgres
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import UnixSignals

extension CXServerCommand {
    /// `cx-server serve`: run the HTTP sync API.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the sync server (starting the embedded PostgreSQL when no database is configured).",
            discussion: """
                On first start with an empty database it creates the user 'admin' and prints a \
                one-time admin token. SIGTERM or SIGINT shuts down gracefully: in-flight syncs \
                finish, then the embedded PostgreSQL stops cleanly.
                """)

        @Option(help: "Address to listen on.")
        var host = "127.0.0.1"

        @Option(help: "Port to listen on.")
        var port = 8080

        @Option(help: "Largest request body accepted, in bytes.")
        var maxBodyBytes = 32 * 1024 * 1024

        @Option(help: "Seconds a connection may stay open between requests before it is closed.")
        var idleTimeout = 60

        @Option(help: "Seconds a client may pause while sending a request body before it is disconnected.")
        var readTimeout = 30

        @Option(help: "Most records one sync request may push.")
        var maxChanges = 5_000

        @Option(help: "Most PostgreSQL connections.")
        var poolSize = 8

        @Option(help: "Requests per second each token may make, sustained (0 turns the limit off).")
        var rateLimit = 20.0

        @Option(help: "Requests each token may make in a burst above the sustained rate.")
        var rateBurst = 120

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            guard rateLimit >= 0, rateLimit.isFinite else { throw ValidationError("--rate-limit must be a number ≥ 0 (0 turns it off)") }
            guard idleTimeout >= 1 else { throw ValidationError("--idle-timeout must be at least 1 second") }
            guard readTimeout >= 1 else { throw ValidationError("--read-timeout must be at least 1 second") }
            guard rateBurst >= 1 else { throw ValidationError("--rate-burst must be at least 1") }
        }

        func run() async throws {
            let logger = logging.logger("cx.server", defaultLevel: .info)
            // Fail before touching the database (and before a first start prints a token nobody
            // can use) when the port is taken.
            try PortInUse.check(host: host, port: port)
            let metrics = ServerMetrics()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))

            let opened = try database.open(for: .serve, logger: logger)
            let pool = PostgresPool(connectionString: opened.connectionString, maxConnections: poolSize, logger: logger)
            let record = RecordFile()
            do {
                let bootstrap = try await pool.withConnection { connection in
                    try prepareDatabase(connection, logger: logger)
                }
                var configuration = ServerConfiguration()
                configuration.host = host
                configuration.port = port
                configuration.maxBodyBytes = maxBodyBytes
                configuration.maxChangesPerRequest = maxChanges
                configuration.idleTimeout = .seconds(Int64(idleTimeout))
                configuration.readTimeout = .seconds(Int64(readTimeout))
                configuration.rateLimit = rateLimit > 0 ? (rateLimit, rateBurst) : nil
                let adminArguments = Self.adminArguments(for: opened)
                let (host, port) = (self.host, self.port)
                let app = buildApplication(configuration: configuration, pool: pool, metrics: metrics, logger: logger) { channel in
                    // Only now is the port ours: say so, with the port actually bound (--port 0).
                    let url = Self.clientURL(host: host, port: channel.localAddress?.port ?? port)
                    if let adminToken = bootstrap {
                        FirstStart.printBanner(token: adminToken, url: url, adminArguments: adminArguments)
                    }
                    record.path = RunningServerRecord(
                        pid: getpid(), url: url, dataDirectory: opened.embedded?.dataDirectory
                    ).write()
                    logger.info("cx-server listening", metadata: ["url": "\(url)"])
                }
                let group = ServiceGroup(
                    configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                do {
                    try await group.run()
                } catch where PortInUse.isAddressInUse(error) {
                    throw PortInUse(host: host, port: port)
                }
            } catch {
                record.remove()
                await pool.close()
                opened.close(logger: logger)
                throw error
            }
            record.remove()
            await pool.close()
            opened.close(logger: logger)
            logger.info("cx-server stopped")
        }

        /// The URL clients use: a wildcard listen address becomes the loopback one, IPv6
        /// literals get their brackets.
        static func clientURL(host: String, port: Int) -> String {
            let reachable: String
            switch host {
            case "0.0.0.0", "": reachable = "127.0.0.1"
            case "::", "[::]": reachable = "[::1]"
            default: reachable = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            }
            return "http://\(reachable):\(port)"
        }

        /// What admin commands need to reach this server's database, for the hints it prints:
        /// `--data-dir DIR` unless it is the default one (a URL is not repeated: it may hold a password).
        static func adminArguments(for database: DatabaseOptions.OpenDatabase) -> String {
            guard let embedded = database.embedded else { return " --database-url URL" }
            let defaultCluster = EmbeddedPostgres(dataDirectory: DatabaseOptions.defaultDataDirectory())
            return embedded.dataDirectory == defaultCluster.dataDirectory ? "" : " --data-dir " + ShellWords.quoted(embedded.dataDirectory)
        }

        /// The running-server record this process wrote, removed at exit.
        final class RecordFile: @unchecked Sendable {
            // Safe: every access to `stored` holds `lock`.
            private let lock = NSLock()
            private var stored: String?

            var path: String? {
                get { lock.withLock { stored } }
                set { lock.withLock { stored = newValue } }
            }

            func remove() {
                if let path { try? FileManager.default.removeItem(atPath: path) }
                path = nil
            }
        }
    }
}
