import CXPostgres
import Prometheus

/// The server's own Prometheus metrics, and the registry `/metrics` renders.
///
/// HTTP request counts and latencies come from Hummingbird's `MetricsMiddleware` through the
/// global metrics system, which `cx-server serve` bootstraps with this registry.
public final class ServerMetrics: Sendable {
    /// The registry behind `/metrics`.
    public let registry: PrometheusCollectorRegistry
    let recordsPushed: Counter
    let recordsWritten: Counter
    let recordsPulled: Counter
    let recordsRejected: Counter
    let syncRequests: Counter
    let requestsRateLimited: Counter
    let poolOpen: Gauge
    let poolInUse: Gauge
    let poolWaiting: Gauge

    /// Creates the metrics in `registry`.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        recordsPushed = registry.makeCounter(descriptor: Self.named("cx_sync_records_pushed_total", help: "Record states received in sync pushes."))
        recordsWritten = registry.makeCounter(descriptor: Self.named("cx_sync_records_written_total", help: "Pushed records that changed the stored state."))
        recordsPulled = registry.makeCounter(descriptor: Self.named("cx_sync_records_pulled_total", help: "Record states sent in sync pulls."))
        recordsRejected = registry.makeCounter(descriptor: Self.named("cx_sync_records_rejected_total", help: "Pushed records refused per record."))
        syncRequests = registry.makeCounter(descriptor: Self.named("cx_sync_requests_total", help: "Successful sync requests."))
        requestsRateLimited = registry.makeCounter(descriptor: Self.named("cx_requests_rate_limited_total", help: "Requests refused with 429 by the per-token rate limit."))
        poolOpen = registry.makeGauge(descriptor: Self.named("cx_db_pool_connections_open", help: "Open PostgreSQL connections."))
        poolInUse = registry.makeGauge(descriptor: Self.named("cx_db_pool_connections_in_use", help: "PostgreSQL connections in use."))
        poolWaiting = registry.makeGauge(descriptor: Self.named("cx_db_pool_waiters", help: "Requests waiting for a PostgreSQL connection."))
    }

    /// A metric named exactly `name` (the descriptor's other name parts stay empty).
    private static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The Prometheus text exposition, with pool gauges read now.
    func render(pool: PostgresPool) -> [UInt8] {
        let statistics = pool.statistics
        poolOpen.set(Double(statistics.open))
        poolInUse.set(Double(statistics.inUse))
        poolWaiting.set(Double(statistics.waiting))
        return registry.emitToBuffer()
    }
}
