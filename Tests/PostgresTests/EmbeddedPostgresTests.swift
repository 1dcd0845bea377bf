import CXEmbeddedPostgres
import CXPostgres
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The embedded cluster's lifecycle; each test makes its own throwaway cluster.
@Suite struct EmbeddedPostgresTests {
    @Test func connectionStringQuotesValues() {
        let cluster = EmbeddedPostgres(dataDirectory: "/var/lib/cx")
        #expect(cluster.connectionString == "host='/var/lib/cx/socket' port=5432 dbname='cx' user='cx'")
        #expect(cluster.connectionString(database: "it's\\") == "host='/var/lib/cx/socket' port=5432 dbname='it\\'s\\\\' user='cx'")
        #expect(EmbeddedPostgres(dataDirectory: "/srv/a/../b").dataDirectory == "/srv/b")
    }

    @Test func findsBinaries() throws {
        let binaries = try EmbeddedPostgres.findBinaries()
        #expect(FileManager.default.isExecutableFile(atPath: binaries.initdb))
        #expect(FileManager.default.isExecutableFile(atPath: binaries.pgCtl))
    }

    @Test func tooLongSocketPathIsRefusedClearly() async throws {
        let long = "/tmp/" + String(repeating: "d", count: 110)
        let cluster = EmbeddedPostgres(dataDirectory: long)
        let error = try await offload { thrownPostgresError { try cluster.start() } }
        #expect(error?.code == .clusterFailed)
        #expect(error?.message.contains("too long") == true)
        #expect(!FileManager.default.fileExists(atPath: long))
    }

    @Test func unreachableDirectoryIsRefusedClearlyAsRoot() async throws {
        try #require(geteuid() == 0, "only meaningful when running as root")
        let parent = "/tmp/cx-private-\(getpid())"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let cluster = EmbeddedPostgres(dataDirectory: parent + "/data")
        let error = try await offload { thrownPostgresError { try cluster.start() } }
        #expect(error?.code == .clusterFailed)
        #expect(error?.message.contains("'postgres' user") == true)
        #expect(error?.message.contains(parent) == true)
    }

    @Test func startStopRestartKeepsData() async throws {
        let cluster = try EmbeddedPostgres.temporary()
        defer { cluster.destroy() }
        try await offload { try cluster.start() }
        try await offload {
            let connection = try PostgresConnection(connectionString: cluster.connectionString)
            try connection.executeScript("CREATE TABLE kept (value text); INSERT INTO kept VALUES ('survives');")
        }
        try await offload { try cluster.stop() }
        #expect(!FileManager.default.fileExists(atPath: cluster.clusterDirectory + "/postmaster.pid"))

        try await offload { try cluster.start() }
        try await offload { try cluster.start() }  // A second start of the same object is harmless.
        let value = try await offload {
            let connection = try PostgresConnection(connectionString: cluster.connectionString)
            return try connection.query("SELECT value FROM kept")[0].decode("value", as: String.self)
        }
        #expect(value == "survives")

        // The socket directory is private, and there is no TCP listener.
        var info = stat()
        #expect(stat(cluster.socketDirectory, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
        let listen = try await offload {
            let connection = try PostgresConnection(connectionString: cluster.connectionString)
            return try connection.query("SHOW listen_addresses")[0][0]
        }
        #expect(listen == "")
        try await offload { try cluster.stop() }
        // This object started the server, so stop() really stopped it despite the second start().
        #expect(!FileManager.default.fileExists(atPath: cluster.clusterDirectory + "/postmaster.pid"))
    }

    @Test func recoversFromStalePidFile() async throws {
        let cluster = try EmbeddedPostgres.temporary()
        defer { cluster.destroy() }
        try await offload { try cluster.start() }
        try await offload { try cluster.stop() }

        // What a server killed with SIGKILL (or a machine crash) leaves behind.
        var deadPID: pid_t = 999_999
        while kill(deadPID, 0) == 0 || errno != ESRCH { deadPID -= 1 }
        let pidFile = cluster.clusterDirectory + "/postmaster.pid"
        let stale = "\(deadPID)\n\(cluster.clusterDirectory)\n1700000000\n5432\n\(cluster.socketDirectory)\n\n  5432001         0\nready   \n"
        try stale.write(toFile: pidFile, atomically: true, encoding: .utf8)

        try await offload { try cluster.start() }
        let one = try await offload {
            try PostgresConnection(connectionString: cluster.connectionString).query("SELECT 1 AS one")[0].decode("one", as: Int.self)
        }
        #expect(one == 1)
        let pid = try String(contentsOfFile: pidFile, encoding: .utf8).split(separator: "\n").first.map(String.init)
        #expect(pid != String(deadPID))
        try await offload { try cluster.stop() }
    }

    @Test func reusesAServerStartedByAnotherInstance() async throws {
        let owner = try EmbeddedPostgres.temporary()
        defer { owner.destroy() }
        try await offload { try owner.start() }

        // A second process (e.g. `cx-server migrate` while `serve` runs) on the same directory.
        let visitor = EmbeddedPostgres(dataDirectory: owner.dataDirectory, durability: .relaxed)
        try await offload { try visitor.start() }
        try await offload { try visitor.stop() }  // Must leave the owner's server running.

        let one = try await offload {
            try PostgresConnection(connectionString: owner.connectionString).query("SELECT 1 AS one")[0].decode("one", as: Int.self)
        }
        #expect(one == 1)
    }
}
