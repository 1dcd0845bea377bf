import ArgumentParser
import CXEmbeddedPostgres
import CXModel
import CXPostgres
import CXSampleData
import CXServer
import Foundation
import Hummingbird
import Logging
import NIOCore

/// `cx-bench concurrent`: many clients syncing at once. Each simulated client is its own rep
/// (own user, token, replica and sync-token chain, as `cx` sends them) and, in a closed loop,
/// pushes `--records-per-request` new customers per request; with `--pull` each request also
/// pulls up to `--pull-limit` changes from the client's own cursor. Prints latency percentiles
/// and throughput of the real HTTP application over a private PostgreSQL cluster (fsync on).
struct ConcurrentBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concurrent",
        abstract: "Many clients at once: sync latency percentiles and requests/s under concurrent pushes (and pulls).",
        discussion: """
            Examples:
              cx-bench concurrent                           # 200 clients, 10 new customers per request, no pull
              cx-bench concurrent --pull                    # the same, each request also pulling ≤ 1000 changes
              cx-bench concurrent --clients 50 --requests 20 --pool-size 16
            """)

    @Option(help: "Concurrent clients, each a rep with its own token and replica.")
    var clients = 200

    @Option(help: "Measured requests per client (after the warm-up ones).")
    var requests = 20

    @Option(help: "Unmeasured requests per client first (connections, caches, plans).")
    var warmup = 2

    @Option(help: "New customers pushed per request.")
    var recordsPerRequest = 10

    @Flag(help: "Each request also pulls from the client's cursor (otherwise it asks for 1 change from a null cursor).")
    var pull = false

    @Option(help: "Most changes a pull asks for (with --pull).")
    var pullLimit = 1_000

    @Option(help: "Customers loaded before the run (what the first pulls read).")
    var preload = 0

    @Option(help: "The server's PostgreSQL connections (cx-server serve --pool-size).")
    var poolSize = 8

    @Flag(inversion: .prefixedNo, help: "Concurrent pushes share transactions (off: each push commits alone, as before).")
    var groupCommit = true

    @Flag(help: "Measure on the fresh cluster's WAL: every new 16 MB segment zero-filled inside the commit that needs it (by default a checkpoint first recycles segments, as on a server that has run a while).")
    var freshWAL = false

    func validate() throws {
        guard clients >= 1, requests >= 1, warmup >= 0, recordsPerRequest >= 1, pullLimit >= 1, preload >= 0, poolSize >= 1 else {
            throw ValidationError("counts must be positive")
        }
    }

    func run() async throws {
        let logger = {
            var logger = Logger(label: "cx.bench")
            logger.logLevel = .warning
            return logger
        }()
        let directory = try ServerBenchmark.makeTemporaryDirectory()
        let cluster = EmbeddedPostgres(dataDirectory: directory, durability: .full, logger: logger)
        try cluster.start()
        defer { cluster.destroy() }
        let pool = PostgresPool(connectionString: cluster.connectionString, maxConnections: poolSize, logger: logger)
        let adminToken = try await pool.withConnection { try prepareDatabase($0, logger: logger) } ?? ""
        let territories = ["north", "south", "east", "west", "central"]
        let tokens = try await pool.withConnection { connection in
            try (0..<clients).map { index in
                try createUserWithToken("rep-\(index)", role: .rep, territories: territories, on: connection)
            }
        }

        // Every request's changes, encoded before the clock starts.
        var rng = SeededRandomGenerator(seed: 11)
        let at = Timestamp(millisecondsSinceEpoch: 1_790_000_000_000)
        var next = 0
        func customers(_ count: Int, replica: String) -> [RecordState] {
            defer { next += count }
            return (next..<next + count).map { SampleCustomers.customer(index: $0, replica: replica, at: at, using: &rng) }
        }
        let perClient = warmup + requests
        let plans: [ClientPlan] = (0..<clients).map { index in
            let replica = "laptop-\(index)"
            let changes = (0..<perClient).map { _ in Self.encode(customers(recordsPerRequest, replica: replica)) }
            return ClientPlan(token: tokens[index], replica: replica, changes: changes)
        }
        let preloadStates = customers(preload, replica: "preload-laptop")

        if !freshWAL {
            let segments = try await pool.withConnection { try Self.recycleWAL(forRecords: plans.count * perClient * recordsPerRequest + preload, on: $0) }
            print("WAL: \(segments) segments recycled ahead (steady state; --fresh-wal to measure without)")
        }
        let walStart = try await pool.withConnection { try Self.walPosition(on: $0) }

        var configuration = ServerConfiguration()
        configuration.groupCommit = groupCommit
        let server = try await BenchServer.start(configuration: configuration, pool: pool, logger: logger)
        let url = server.syncURL
        for body in ServerBenchmark.bodies(preloadStates, batch: 1_000, replica: "preload-laptop", pushingAhead: false) {
            _ = try await ServerBenchmark.post(url, token: adminToken, body: body)
        }

        var connections: [KeepAliveConnection] = []
        for _ in plans { connections.append(try await KeepAliveConnection.connect(host: "127.0.0.1", port: server.port, path: "/v1/sync")) }
        print(
            "clients: \(clients), requests: \(requests) each (+\(warmup) warm-up), \(recordsPerRequest) new customers per request, "
                + (pull ? "pull ≤ \(pullLimit) from the cursor" : "no pull") + ", server pool: \(poolSize), preloaded: \(preload), group commit: \(groupCommit ? "on" : "off")")

        let cpuBefore = MachineCPU.now()
        let processBefore = MachineCPU.ofThisProcess()
        let results: [ClientResult]
        do {
            results = try await withThrowingTaskGroup(of: ClientResult.self) { group in
                for (plan, connection) in zip(plans, connections) {
                    group.addTask { try await self.runClient(plan, on: connection) }
                }
                var all: [ClientResult] = []
                for try await result in group { all.append(result) }
                return all
            }
        } catch {
            for connection in connections { await connection.close() }
            await server.stop()
            throw error
        }
        let cpu = MachineCPU.now().flatMap { after in cpuBefore.map { after - $0 } }
        let processCPU = MachineCPU.ofThisProcess() - processBefore
        for connection in connections { await connection.close() }
        await server.stop()
        let walWritten = try await pool.withConnection { try Self.walPosition(on: $0) - walStart }
        await pool.close()
        report(results)
        print(String(format: "WAL written: %.0f MB", Double(walWritten) / 1_048_576))
        if let cpu {
            // Warm-up requests included: the counters cover the whole client phase.
            let requests = Double(plans.count * perClient)
            print(
                String(
                    format: "CPU, all processes: %.2f ms per request, of which this process (server and clients) %.2f ms; %.2f ms stolen by the hypervisor",
                    cpu.busy * 1000 / requests, processCPU * 1000 / requests, cpu.stolen * 1000 / requests))
        }
    }

    /// WAL bytes one pushed record takes, measured (146 MB for 44,000): the row, the audit row and their index entries.
    static let walBytesPerRecord = 3_600

    /// Brings the cluster's WAL to a running server's steady state before the clock starts: enough
    /// segments for `records` pushed records, recycled by a checkpoint.
    ///
    /// A fresh cluster has no spare segments: the commit that crosses into a new one zero-fills
    /// 16 MB first, holding the WAL lock that every other commit waits for (8.5 % of
    /// PostgreSQL's CPU under 200 clients, and a stall of every group in flight). A server that
    /// has run a while renames the segments its checkpoints free instead (`min_wal_size`,
    /// `max_wal_size`), so that cost belongs to a database's first hours, not to its throughput.
    /// - Returns: How many segments the cluster holds afterwards.
    static func recycleWAL(forRecords records: Int, on connection: PostgresConnection) throws -> Int {
        let segmentSize = try connection.query("SELECT pg_size_bytes(current_setting('wal_segment_size')) AS size")[0].decode("size", as: Int64.self)
        let wanted = min(64, records * walBytesPerRecord / Int(segmentSize) + 2)
        for _ in 0..<wanted {
            // A switch needs something written since the last one.
            try connection.query("SELECT pg_logical_emit_message(false, 'cx-bench', 'recycle')::text AS lsn")
            try connection.query("SELECT pg_switch_wal()::text AS lsn")
        }
        try connection.query("CHECKPOINT")
        return try connection.query("SELECT count(*) AS segments FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'")[0].decode("segments", as: Int.self)
    }

    /// The cluster's current WAL position, in bytes.
    static func walPosition(on connection: PostgresConnection) throws -> Int64 {
        try connection.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS position")[0].decode("position", as: Int64.self)
    }

    /// One client's requests and their bodies' changes.
    struct ClientPlan: Sendable {
        let token: String
        let replica: String
        /// The encoded states of each request, `state,state,…` without brackets.
        let changes: [[UInt8]]
    }

    /// What one client measured.
    struct ClientResult: Sendable {
        var latencies: [Duration] = []
        var firstMeasuredStart: ContinuousClock.Instant?
        var lastEnd: ContinuousClock.Instant?
        var pulled = 0
        var rejected = 0
    }

    /// Sends the client's requests one after another, as `cx sync` does.
    func runClient(_ plan: ClientPlan, on connection: KeepAliveConnection) async throws -> ClientResult {
        var result = ClientResult()
        var cursor: String?
        for (index, changes) in plan.changes.enumerated() {
            var w = JSONWriter(capacity: changes.count + 256)
            w.raw("{\"replica_id\":")
            w.string(plan.replica)
            w.raw(",\"sync_token\":")
            if index == 0 { w.raw("null") } else { w.string("t\(index)") }
            w.raw(",\"next_sync_token\":")
            w.string("t\(index + 1)")
            w.raw(",\"cursor\":")
            if pull, let cursor { w.string(cursor) } else { w.raw("null") }
            w.raw(",\"limit\":")
            w.number(UInt64(pull ? pullLimit : 1))
            w.raw(",\"compact_states\":true,\"changes\":[")
            w.rawJSON(changes)
            w.raw("]}")
            let start = ContinuousClock.now
            let (status, reply) = try await connection.post(ByteBuffer(bytes: w.bytes), token: plan.token)
            guard status == .ok else { throw ValidationError("sync answered \(status): \(String(buffer: reply))") }
            let end = ContinuousClock.now
            let page = try ServerBenchmark.countPage(reply)
            cursor = page.cursor
            guard index >= warmup else { continue }
            if result.firstMeasuredStart == nil { result.firstMeasuredStart = start }
            result.lastEnd = end
            result.latencies.append(end - start)
            result.pulled += page.count
            result.rejected += page.rejected
        }
        return result
    }

    static func encode(_ states: [RecordState]) -> [UInt8] {
        var w = JSONWriter(capacity: states.count * 2200)
        for (index, state) in states.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            state.encode(into: &w)
        }
        return w.bytes
    }

    func report(_ results: [ClientResult]) {
        let latencies = results.flatMap(\.latencies).sorted()
        guard !latencies.isEmpty,
              let start = results.compactMap(\.firstMeasuredStart).min(),
              let end = results.compactMap(\.lastEnd).max()
        else { return print("nothing measured") }
        let seconds = (end - start).seconds
        func percentile(_ p: Double) -> String {
            let index = min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)
            return String(format: "%.0f ms", latencies[max(0, index)].seconds * 1000)
        }
        let pulled = results.reduce(0) { $0 + $1.pulled }
        let rejected = results.reduce(0) { $0 + $1.rejected }
        print("requests measured: \(latencies.count) in \(String(format: "%.1f", seconds)) s")
        print("latency p50 \(percentile(0.50)), p90 \(percentile(0.90)), p99 \(percentile(0.99)), max \(percentile(1.0))")
        print(String(format: "throughput: %.0f requests/s, %.0f records pushed/s", Double(latencies.count) / seconds,
                     Double(latencies.count * recordsPerRequest) / seconds))
        if pull { print(String(format: "pulled: %.0f states/s (%.0f per request)", Double(pulled) / seconds, Double(pulled) / Double(latencies.count))) }
        if rejected > 0 { print("rejected records: \(rejected)") }
    }
}
