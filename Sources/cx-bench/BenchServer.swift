import CXPostgres
import CXServer
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// The sync application of a benchmark, on a free port of the loopback interface, run as
/// `cx-server serve` runs it (a service group) and stopped the same way: gracefully, so that a
/// run's output ends with its figures rather than the errors of a cancelled server.
struct BenchServer {
    /// `http://127.0.0.1:PORT/v1/sync`.
    let syncURL: String
    /// The port it listens on.
    let port: Int
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// Starts the application over `pool` with `configuration` (its port is replaced by a free
    /// one) and returns once it listens.
    static func start(configuration: ServerConfiguration, pool: PostgresPool, logger: Logger) async throws -> BenchServer {
        let port = PortBox()
        var configuration = configuration
        configuration.port = 0
        let app = buildApplication(
            configuration: configuration, pool: pool, metrics: ServerMetrics(), logger: logger,
            onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) })
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let running = Task { try await group.run() }
        for _ in 0..<1_500 where port.value == 0 { try await Task.sleep(for: .milliseconds(20)) }
        guard port.value != 0 else {
            await group.triggerGracefulShutdown()
            throw NotListening()
        }
        return BenchServer(syncURL: "http://127.0.0.1:\(port.value)/v1/sync", port: port.value, group: group, running: running)
    }

    struct NotListening: Error, CustomStringConvertible {
        var description: String { "the benchmark's server did not start listening within 30 s" }
    }

    /// Stops accepting, lets requests in progress finish, and waits for the server to stop.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }
}

/// The port the benchmark server bound, set once from the server's callback.
final class PortBox: Sendable {
    private let storage = Mutex(0)
    var value: Int { storage.withLock { $0 } }
    func set(_ port: Int) { storage.withLock { $0 = port } }
}
