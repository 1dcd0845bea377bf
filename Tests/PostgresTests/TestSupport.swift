import CXEmbeddedPostgres
import CXPostgres
import Foundation
import NIOPosix
import Testing

/// The throwaway cluster shared by the tests of ``PostgresTests``.
///
/// One cluster for the whole suite because `initdb` takes seconds; tests run in parallel, so each
/// one uses its own table names (``uniqueName(_:)``).
enum TestCluster {
    @TaskLocal static var current: EmbeddedPostgres?

    struct Missing: Error, CustomStringConvertible {
        var description: String { "no test cluster: the test must be inside a suite with the .sharedCluster trait" }
    }

    static var connectionString: String {
        get throws {
            guard let current else { throw Missing() }
            return current.connectionString
        }
    }
}

/// Starts a temporary cluster around a suite and destroys it afterwards (even if tests fail).
struct SharedClusterTrait: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let cluster = try EmbeddedPostgres.temporary()
        do {
            try await offload { try cluster.start() }
            try await TestCluster.$current.withValue(cluster) {
                try await function()
            }
        } catch {
            try? await offload { cluster.destroy() }
            throw error
        }
        try await offload { cluster.destroy() }
    }
}

extension Trait where Self == SharedClusterTrait {
    /// Runs the suite against one temporary PostgreSQL cluster (``TestCluster/current``).
    static var sharedCluster: Self { Self() }
}

/// Runs blocking work (libpq, initdb, pg_ctl) on NIO's thread pool so tests never block Swift's
/// cooperative threads, which the event-loop test measures.
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}

/// Runs `body` with a fresh pool on the shared cluster and closes the pool afterwards.
func withPool<T: Sendable>(
    maxConnections: Int = 2,
    _ body: (PostgresPool) async throws -> T
) async throws -> T {
    let pool = PostgresPool(connectionString: try TestCluster.connectionString, maxConnections: maxConnections)
    do {
        let result = try await body(pool)
        await pool.close()
        return result
    } catch {
        await pool.close()
        throw error
    }
}

/// A table name no other (parallel) test uses.
func uniqueName(_ prefix: String) -> String {
    prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
}

/// The ``PostgresError`` that `body` threw, or `nil` if it threw nothing (or something else).
///
/// Returns the error instead of recording an issue because it is used inside pool closures,
/// which run on pool threads outside the test's task; the test checks the value afterwards.
func thrownPostgresError(_ body: () throws -> Void) -> PostgresError? {
    do {
        try body()
        return nil
    } catch {
        return error as? PostgresError
    }
}

/// The root of the suites that share one cluster; see the extensions in the other files.
@Suite(.sharedCluster)
struct PostgresTests {}
