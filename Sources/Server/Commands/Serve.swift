import ArgumentParser
import CXPostgres
import Hummingbird
import Logging
import Metrics
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
            let logger = logging.logger("cx.server")
            let metrics = ServerMetrics()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))

            let opened = try database.open(logger: logger)
            let pool = PostgresPool(connectionString: opened.connectionString, maxConnections: poolSize, logger: logger)
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
                if let adminToken = bootstrap {
                    FirstStart.printBanner(token: adminToken, url: "http://\(host):\(port)")
                }
                let app = buildApplication(configuration: configuration, pool: pool, metrics: metrics, logger: logger)
                let group = ServiceGroup(
                    configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                logger.info("cx-server listening", metadata: ["url": "http://\(host):\(port)"])
                try await group.run()
            } catch {
                await pool.close()
                opened.close(logger: logger)
                throw error
            }
            await pool.close()
            opened.close(logger: logger)
            logger.info("cx-server stopped")
        }
    }
}
