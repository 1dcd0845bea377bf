import CXModel
import CXEmbeddedPostgres
import CXPostgres
import Foundation
import Logging
import NIOPosix
import Testing

@testable import CXServer

/// The throwaway PostgreSQL cluster of a server test suite (started by the `.serverDatabase`
/// trait); every test gets a fresh, migrated database in it, so tests can run in parallel.
enum ServerTestCluster {
    @TaskLocal static var current: EmbeddedPostgres?
}

struct ServerDatabaseTrait: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let cluster = try EmbeddedPostgres.temporary()
        do {
            try await blocking { try cluster.start() }
            try await ServerTestCluster.$current.withValue(cluster) { try await function() }
        } catch {
            try? await blocking { cluster.destroy() }
            throw error
        }
        try await blocking { cluster.destroy() }
    }
}

extension Trait where Self == ServerDatabaseTrait {
    /// Runs the suite against one temporary PostgreSQL cluster.
    static var serverDatabase: Self { Self() }
}

/// Runs blocking work (libpq, pg_ctl) off Swift's cooperative pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}

/// A fresh migrated database with a pool, an admin token and a rep token.
/// Parallel tests migrate their databases of one cluster one at a time. The migrations create
/// cluster-wide roles (`cx_analyst`, `cx_editor`) if missing; a transaction that loses that race
/// waits for the winner, then may still miss the role in its own catalog cache for the rest of
/// the transaction ("role does not exist", 42704). A server migrates its one database alone.
let clusterMigrationLock = NSLock()

struct TestDatabase: Sendable {
    let connectionString: String
    let pool: PostgresPool
    let adminToken: String

    static let logger = Logger(label: "cx.test")

    /// Creates database `cx_test_<random>`, migrates it and opens a pool.
    /// - Parameter migrations: the migrations to apply; fewer than all leaves the database as an
    ///   earlier server left it (for upgrade tests), without the first-start admin.
    static func make(poolSize: Int = 4, migrations: [Migration] = Migration.all) async throws -> TestDatabase {
        let cluster = try #require(ServerTestCluster.current, "the suite needs the .serverDatabase trait")
        let name = "cx_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        let adminConnection = cluster.connectionString(database: "postgres")
        try await blocking {
            let connection = try PostgresConnection(connectionString: adminConnection)
            defer { connection.close() }
            // The name is generated above from hex digits only.
            try connection.executeScript("CREATE DATABASE \(name)")
        }
        let connectionString = cluster.connectionString(database: String(name))
        let pool = PostgresPool(connectionString: connectionString, maxConnections: poolSize, logger: logger)
        let token = try await pool.withConnection { connection in
            try clusterMigrationLock.withLock { try Migrator(migrations: migrations, logger: logger).migrate(connection) }
            guard migrations.count == Migration.all.count else { return "" }
            return try FirstStart.createAdminIfEmpty(on: connection) ?? ""
        }
        return TestDatabase(connectionString: connectionString, pool: pool, adminToken: token)
    }

    func close() async {
        await pool.close()
    }

    /// Creates a user with a token; returns the token.
    func user(_ name: String, role: UserRole = .rep, territories: [String]) async throws -> String {
        try await sql { connection in
            try UserStore.addUser(name, role: role, territories: territories, on: connection)
            return try UserStore.issueToken(for: name, on: connection)
        }
    }

    /// Runs `body` on a connection of the pool.
    func sql<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await pool.withConnection(body)
    }
}

/// Runs `body` with a fresh test database (see ``TestDatabase/make(poolSize:)``) and closes it
/// afterwards, whether `body` returns or throws.
func withTestDatabase<T>(
    poolSize: Int = 4, migrations: [Migration] = Migration.all, _ body: (TestDatabase) async throws -> T
) async throws -> T {
    let database = try await TestDatabase.make(poolSize: poolSize, migrations: migrations)
    do {
        let result = try await body(database)
        await database.close()
        return result
    } catch {
        await database.close()
        throw error
    }
}

/// Builders for record states used across the server tests.
enum Records {
    static func author(_ replica: String, minute: Int64 = 0) -> Author {
        Author(replica: replica, user: replica, at: Timestamp(millisecondsSinceEpoch: 1_795_000_000_000 + minute * 60_000))
    }

    static func customer(
        _ name: String = "Acme", territory: String = "north", replica: String = "laptop-a", id: String = RecordID.random()
    ) throws -> RecordState {
        try RecordState.new(kind: .customer, id: id, fields: ["name": name, "territory": territory], by: author(replica))
    }

    static func purchase(customer: String, amount: String = "120.00", replica: String = "laptop-a") throws -> RecordState {
        try RecordState.new(
            kind: .activity,
            fields: ["customer_id": customer, "type": "purchase", "on": "2026-03-01", "amount": amount, "margin": "0.12", "due_on": "2026-03-31"],
            by: author(replica))
    }

    /// A sync request body.
    static func syncBody(
        replica: String = "laptop-a", cursor: String? = nil, changes: [RecordState], limit: Int? = nil, omitEchoes: Bool = false
    ) -> String {
        var w = JSONWriter()
        w.raw("{\"replica_id\":")
        w.string(replica)
        w.raw(",\"cursor\":")
        w.optionalString(cursor)
        w.raw(",\"changes\":[")
        for (index, state) in changes.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            state.encode(into: &w)
        }
        w.byte(UInt8(ascii: "]"))
        if let limit {
            w.raw(",\"limit\":")
            w.number(UInt64(limit))
        }
        if omitEchoes { w.raw(",\"omit_echoes\":true") }
        w.byte(UInt8(ascii: "}"))
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

/// A decoded sync response.
struct SyncResponse {
    var changes: [RecordState]
    var cursor: String
    var hasMore: Bool
    var rejected: [(id: String, code: String)]
    var removed: [String] = []
    var scopeRole = ""
    var scopeTerritories: [String] = []
    var features: [String] = []

    /// The ids of the pulled states.
    var ids: Set<String> { Set(changes.map(\.id)) }

    init(_ text: String) throws {
        var changes: [RecordState] = []
        var removed: [String] = []
        var scopeRole = ""
        var scopeTerritories: [String] = []
        var cursor = "", hasMore = false
        var features: [String] = []
        var rejected: [(id: String, code: String)] = []
        try JSONScanner.scan(Array(text.utf8)) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                switch key {
                case "changes":
                    try scanner.array { scanner throws(JSONScanner.Failure) in
                        do throws(StateDecodingError) { changes.append(try RecordState(reading: &scanner, values: .stored)) } catch { throw scanner.failure(error.description) }
                    }
                case "cursor": cursor = try scanner.string()
                case "has_more": hasMore = try scanner.bool()
                case "rejected":
                    try scanner.array { scanner throws(JSONScanner.Failure) in
                        var id = "", code = ""
                        try scanner.object { scanner, key throws(JSONScanner.Failure) in
                            switch key {
                            case "id": id = try scanner.string()
                            case "code": code = try scanner.string()
                            default: try scanner.skipValue()
                            }
                        }
                        rejected.append((id, code))
                    }
                case "removed":
                    try scanner.array { scanner throws(JSONScanner.Failure) in removed.append(try scanner.string()) }
                case "features":
                    try scanner.array { scanner throws(JSONScanner.Failure) in features.append(try scanner.string()) }
                case "scope":
                    try scanner.object { scanner, key throws(JSONScanner.Failure) in
                        switch key {
                        case "role": scopeRole = try scanner.string()
                        case "territories":
                            try scanner.array { scanner throws(JSONScanner.Failure) in scopeTerritories.append(try scanner.string()) }
                        default: try scanner.skipValue()
                        }
                    }
                default: try scanner.skipValue()
                }
            }
        }
        self.changes = changes
        self.cursor = cursor
        self.hasMore = hasMore
        self.rejected = rejected
        self.removed = removed
        self.features = features
        self.scopeRole = scopeRole
        self.scopeTerritories = scopeTerritories
    }
}
