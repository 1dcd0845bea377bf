import ArgumentParser
import AsyncHTTPClient
import CXModel
import CXEmbeddedPostgres
import CXPostgres
import CXServer
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import CXSampleData

/// `cx-bench server`: push N customer states through `POST /v1/sync` in batches, pull them all
/// back with a fresh cursor, and compare with what PostgreSQL alone takes for the same rows.
/// Then the same for a rep holding one of the five sample territories: the scoped pull of their
/// book, and a push of an edit to every customer in it (scope checks and audit included).
struct ServerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Sync API push/pull throughput against PostgreSQL's own COPY and multi-row upsert.")

    @Option(help: "Customer states to push and pull.")
    var records = 100_000

    @Option(help: "States per push request.")
    var batch = 1_000

    @Option(help: "Changes per pull page (the server caps it at 5000).")
    var pageSize = 5_000

    @Option(help: "Push requests sent ahead of the answer to the one before, as push-only requests (cx sync sends 1; 0 sends one at a time).")
    var pushesAhead = 1

    func run() async throws {
        let logger = {
            var logger = Logger(label: "cx.bench")
            logger.logLevel = .warning
            return logger
        }()
        let directory = try Self.makeTemporaryDirectory()
        let cluster = EmbeddedPostgres(dataDirectory: directory, durability: .full, logger: logger)
        try cluster.start()
        defer { cluster.destroy() }
        let pool = PostgresPool(connectionString: cluster.connectionString, maxConnections: 4, logger: logger)
        let token = try await pool.withConnection { try prepareDatabase($0, logger: logger) } ?? ""

        var rng = SeededRandomGenerator(seed: 7)
        let at = Timestamp(millisecondsSinceEpoch: 1_790_000_000_000)
        let states = (0..<records).map { SampleCustomers.customer(index: $0, replica: "bench-laptop", at: at, using: &rng) }
        let bodies = Self.bodies(states, batch: batch, replica: "bench-laptop", pushingAhead: pushesAhead > 0)
        let averageBytes = bodies.reduce(0) { $0 + $1.readableBytes } / states.count
        let expandedBytes = states.reduce(0) { $0 + $1.jsonBytes(.expanded).count } / states.count
        print("records: \(records), push batch: \(batch), pushes ahead: \(pushesAhead), pull page: \(pageSize), ~\(averageBytes) bytes per state (compact; \(expandedBytes) expanded)")

        let server = try await BenchServer.start(configuration: ServerConfiguration(), pool: pool, logger: logger)
        let url = server.syncURL

        // Push, as `cx sync` does: the first request alone, then each one while the one before
        // it is answered (push-only requests, docs/sync-protocol.md §4c).
        var start = ContinuousClock.now
        _ = try await Self.post(bodies, to: url, token: token, ahead: pushesAhead)
        let pushSeconds = (ContinuousClock.now - start).seconds

        // Pull everything with a fresh cursor.
        start = ContinuousClock.now
        let pulled = try await Self.pullAll(url, token: token, pageSize: pageSize)
        let pullSeconds = (ContinuousClock.now - start).seconds

        // A rep of one territory: pull their book, then push an edit to each of its customers.
        let repToken = try await pool.withConnection { connection in
            try createUserWithToken("bench-rep", role: .rep, territories: ["north"], on: connection)
        }
        let book = states.filter { $0.displayedValue("territory") == "north" }
        start = ContinuousClock.now
        let repPulled = try await Self.pullAll(url, token: repToken, pageSize: pageSize)
        let repPullSeconds = (ContinuousClock.now - start).seconds
        let edits = try book.map { state in
            var edited = state
            try edited.set("phone", to: "+1 555 0100", by: Author(replica: "rep-laptop", user: "bench-rep", at: at))
            return edited
        }
        let repBodies = Self.bodies(edits, batch: batch, replica: "rep-laptop", pushingAhead: pushesAhead > 0)
        start = ContinuousClock.now
        for reply in try await Self.post(repBodies, to: url, token: repToken, ahead: pushesAhead) {
            let page = try Self.countPage(reply)
            guard page.rejected == 0 else { throw ValidationError("the rep's push was refused for \(page.rejected) records") }
        }
        let repPushSeconds = (ContinuousClock.now - start).seconds
        await server.stop()

        // PostgreSQL alone, on the same rows.
        let baseline = try await pool.withConnection { connection in
            try Self.postgresBaseline(connection, batch: batch)
        }
        await pool.close()
        guard pulled == records else {
            throw ValidationError("pulled \(pulled) states, expected \(records)")
        }
        guard repPulled == book.count else {
            throw ValidationError("the rep pulled \(repPulled) states, expected their \(book.count)")
        }

        func rate(_ seconds: Double) -> String { "\(Int(Double(records) / seconds)) records/s" }
        print("push via /v1/sync:          \(rate(pushSeconds))  (\(String(format: "%.2f", pushSeconds)) s)")
        print("PostgreSQL multi-row upsert: \(rate(baseline.upsert))  (\(String(format: "%.2f", baseline.upsert)) s)")
        print("push ratio: \(String(format: "%.2f", pushSeconds / baseline.upsert))× PostgreSQL (floor ≤ 1.5×, issue 12)")
        print("pull via /v1/sync:          \(rate(pullSeconds))  (\(String(format: "%.2f", pullSeconds)) s)")
        print("PostgreSQL COPY TO STDOUT:  \(rate(baseline.copy))  (\(String(format: "%.2f", baseline.copy)) s)")
        print("pull ratio: \(String(format: "%.2f", pullSeconds / baseline.copy))× PostgreSQL (floor ≤ 1.5×, issue 12)")
        func rate(_ count: Int, _ seconds: Double) -> String {
            "\(Int(Double(count) / seconds)) records/s  (\(String(format: "%.2f", seconds)) s for \(count))"
        }
        print("rep of 1 of 5 territories, scoped pull:  \(rate(repPulled, repPullSeconds))")
        print("rep, scoped push (edit every customer):  \(rate(edits.count, repPushSeconds))")
    }

    /// Push request bodies of `batch` states each; with `pushingAhead`, every one after the
    /// first is push-only.
    static func bodies(_ states: [RecordState], batch: Int, replica: String, pushingAhead: Bool) -> [ByteBuffer] {
        stride(from: 0, to: states.count, by: batch).map { start in
            var w = JSONWriter(capacity: batch * 2200)
            w.raw("{\"replica_id\":")
            w.string(replica)
            w.raw(",\"cursor\":null,\"limit\":1,")
            if pushingAhead && start > 0 { w.raw("\"push_only\":true,") }
            w.raw("\"changes\":[")
            for (index, state) in states[start..<min(start + batch, states.count)].enumerated() {
                if index > 0 { w.byte(UInt8(ascii: ",")) }
                state.encode(into: &w)
            }
            w.raw("]}")
            return ByteBuffer(bytes: w.bytes)
        }
    }

    /// Posts `bodies` in order, each of the first `ahead + 1` at once and every later one as soon
    /// as the answer to the one `ahead + 1` places before it is in; returns the answers in order.
    static func post(_ bodies: [ByteBuffer], to url: String, token: String, ahead: Int) async throws -> [ByteBuffer] {
        var answers: [ByteBuffer] = []
        var inFlight: [Task<ByteBuffer, any Error>] = []
        for (index, body) in bodies.enumerated() {
            // The first request goes alone: its answer tells a client that the server takes pushes ahead.
            if index == 1 || inFlight.count > ahead { answers.append(try await inFlight.removeFirst().value) }
            inFlight.append(Task { try await Self.post(url, token: token, body: body) })
        }
        for task in inFlight { answers.append(try await task.value) }
        return answers
    }

    /// Pulls every change from a null cursor; returns how many states came.
    static func pullAll(_ url: String, token: String, pageSize: Int) async throws -> Int {
        var cursor = "null"
        var pulled = 0
        while true {
            let response = try await post(
                url, token: token,
                body: ByteBuffer(string: "{\"replica_id\":\"bench-reader\",\"cursor\":\(cursor),\"limit\":\(pageSize),\"compact_states\":true,\"changes\":[]}"))
            let page = try countPage(response)
            pulled += page.count
            cursor = "\"\(page.cursor)\""
            if !page.hasMore { return pulled }
        }
    }

    static func post(_ url: String, token: String, body: ByteBuffer) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(body)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(300))
        let bytes = try await response.body.collect(upTo: 1 << 30)
        guard response.status == .ok else {
            throw ValidationError("sync answered \(response.status): \(String(buffer: bytes))")
        }
        return bytes
    }

    /// Counts the states of a pull page without decoding them (the client's cost is not the
    /// server's).
    static func countPage(_ buffer: ByteBuffer) throws -> (count: Int, cursor: String, hasMore: Bool, rejected: Int) {
        var count = 0, cursor = "", hasMore = false, rejected = 0
        try JSONScanner.scan(Array(buffer: buffer)) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                switch key {
                case "changes": try scanner.array { scanner throws(JSONScanner.Failure) in count += 1; try scanner.skipValue() }
                case "cursor": cursor = try scanner.consumeNull() ? "" : try scanner.string()
                case "has_more": hasMore = try scanner.bool()
                case "rejected": try scanner.array { scanner throws(JSONScanner.Failure) in rejected += 1; try scanner.skipValue() }
                default: try scanner.skipValue()
                }
            }
        }
        return (count, cursor, hasMore, rejected)
    }

    /// PostgreSQL's own time for the same rows: `COPY … TO STDOUT` of what a pull reads, and a
    /// multi-row `INSERT … ON CONFLICT DO UPDATE` (1000 rows per statement) of what a push writes.
    static func postgresBaseline(_ connection: PostgresConnection, batch: Int) throws -> (copy: Double, upsert: Double) {
        var start = ContinuousClock.now
        _ = try connection.copyOut("COPY (SELECT seq, state FROM cx.customers ORDER BY seq) TO STDOUT")
        let copySeconds = (ContinuousClock.now - start).seconds

        try connection.executeScript("CREATE TABLE cx.bench_customers (LIKE cx.customers INCLUDING ALL)")
        let columns = ["id", "name", "company", "email", "phone", "address", "city", "country", "territory", "owner",
                       "segment", "notes", "tags", "extra", "has_conflicts", "deleted", "seq", "state"]
        let rows = try connection.query(
            PostgresQuery(unsafeSQL: "SELECT \(columns.map { "\($0)::text" }.joined(separator: ", ")) FROM cx.customers ORDER BY seq"))
        let values = rows.map { row in (0..<columns.count).map { row[$0] } }
        let updates = columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        start = ContinuousClock.now
        var index = 0
        try connection.transaction { connection in
            while index < values.count {
                let chunk = values[index..<min(index + batch, values.count)]
                var placeholders: [String] = []
                var binds: [String?] = []
                for row in chunk {
                    let base = binds.count
                    placeholders.append("(" + (1...columns.count).map { "$\(base + $0)" }.joined(separator: ",") + ")")
                    binds += row
                }
                let sql = "INSERT INTO cx.bench_customers (\(columns.joined(separator: ","))) VALUES "
                    + placeholders.joined(separator: ",") + " ON CONFLICT (id) DO UPDATE SET \(updates)"
                try connection.query(PostgresQuery(unsafeSQL: sql, binds: binds))
                index += batch
            }
        }
        let upsertSeconds = (ContinuousClock.now - start).seconds
        return (copySeconds, upsertSeconds)
    }

    static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/cx-bench-XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else { throw ValidationError("cannot create a temporary directory") }
        let directory = String(cString: path)
        chmod(directory, 0o755)
        return directory
    }
}
