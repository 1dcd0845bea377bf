import CXPostgres
import Foundation
import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private PostgreSQL cluster that the application creates, starts and stops itself.
///
/// Layout inside `dataDirectory`:
/// - `pgdata/`: the cluster (created by `initdb` on first start);
/// - `socket/`: the Unix socket directory, mode 0700, the only way in (there is no TCP listener);
/// - `postgres.log`: the server log.
///
/// Authentication is `trust`: safe because only the socket directory's owner (and root) can reach
/// the socket. The database `cx` and superuser `cx` are created on first start.
///
/// When the process runs as root, `initdb` refuses to run, so the cluster belongs to the `postgres`
/// system user: the commands run through `runuser -u postgres`, and the data directory must be
/// reachable by that user (so not under `/root`).
///
/// All methods block (they run `initdb`/`pg_ctl` and wait for them, for seconds); call them from a
/// thread that may block, not from an event loop or Swift's cooperative pool.
public final class EmbeddedPostgres: Sendable {
    /// How hard the cluster tries to keep committed data across a crash of the machine.
    public enum Durability: Sendable, Hashable {
        /// PostgreSQL's defaults: every commit is flushed to disk.
        case full
        /// `fsync`, `synchronous_commit` and `full_page_writes` off: much faster, but a machine
        /// crash can corrupt the cluster. Only for throwaway clusters (tests, benchmarks).
        case relaxed
    }

    /// The directory holding the cluster, its socket directory and its log (absolute).
    public let dataDirectory: String
    /// The durability settings the server is started with.
    public let durability: Durability
    /// The server's `max_connections`.
    public let maxConnections: Int
    /// The database applications use.
    public static let databaseName = "cx"
    /// The superuser `initdb` creates.
    public static let userName = "cx"

    private let logger: Logger
    /// Whether this object started the server, and so whether ``stop()`` should stop it.
    private let startedHere = NIOLockedValueBox(false)

    /// The port only names the socket file (`.s.PGSQL.5432`): the server listens on no TCP port.
    private static let port = 5432
    /// `sun_path` holds 108 bytes including the terminating NUL on Linux (104 on macOS).
    private static let maxSocketPathLength = 107

    /// Creates a handle for a cluster in `dataDirectory`; nothing happens on disk until ``start()``.
    ///
    /// - Parameters:
    ///   - dataDirectory: Where the cluster lives; relative paths are taken from the current directory.
    ///   - durability: ``Durability/full`` unless the data is disposable.
    ///   - maxConnections: The server's `max_connections`.
    ///   - logger: Receives progress messages.
    public init(
        dataDirectory: String,
        durability: Durability = .full,
        maxConnections: Int = 100,
        logger: Logger = Logger(label: "cx.postgres.embedded")
    ) {
        self.dataDirectory = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        self.durability = durability
        self.maxConnections = maxConnections
        self.logger = logger
    }

    /// Creates a handle for a cluster in the directory at `dataDirectory`.
    public convenience init(
        dataDirectory: URL,
        durability: Durability = .full,
        maxConnections: Int = 100,
        logger: Logger = Logger(label: "cx.postgres.embedded")
    ) {
        self.init(
            dataDirectory: dataDirectory.path,
            durability: durability,
            maxConnections: maxConnections,
            logger: logger
        )
    }

    /// `dataDirectory/pgdata`: the cluster itself.
    public var clusterDirectory: String { dataDirectory + "/pgdata" }
    /// `dataDirectory/socket`: where the server's Unix socket lives.
    public var socketDirectory: String { dataDirectory + "/socket" }
    /// `dataDirectory/postgres.log`: the server log.
    public var logFile: String { dataDirectory + "/postgres.log" }

    /// A libpq keyword connection string for the `cx` database over the private socket.
    public var connectionString: String {
        connectionString(database: Self.databaseName)
    }

    /// A libpq keyword connection string for `database` over the private socket.
    public func connectionString(database: String) -> String {
        "host=\(Self.quoted(socketDirectory)) port=\(Self.port) dbname=\(Self.quoted(database)) "
            + "user=\(Self.quoted(Self.userName))"
    }

    // MARK: - Binaries

    /// Finds `initdb` and `pg_ctl`: on `PATH` first, else the newest version under `/usr/lib/postgresql/*/bin`
    /// (where Debian and Ubuntu install them, off `PATH`).
    /// - Throws: ``PostgresError/Code/clusterFailed`` saying what to install.
    public static func findBinaries() throws(PostgresError) -> (initdb: String, pgCtl: String) {
        let fileManager = FileManager.default
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) where !directory.isEmpty {
            let initdb = directory + "/initdb"
            let pgCtl = directory + "/pg_ctl"
            if fileManager.isExecutableFile(atPath: initdb), fileManager.isExecutableFile(atPath: pgCtl) {
                return (initdb, pgCtl)
            }
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? fileManager.contentsOfDirectory(atPath: root)) ?? [])
            .sorted { $0.compare($1, options: .numeric) == .orderedDescending }
        for version in versions {
            let initdb = "\(root)/\(version)/bin/initdb"
            let pgCtl = "\(root)/\(version)/bin/pg_ctl"
            if fileManager.isExecutableFile(atPath: initdb), fileManager.isExecutableFile(atPath: pgCtl) {
                return (initdb, pgCtl)
            }
        }
        throw PostgresError(
            .clusterFailed,
            "PostgreSQL's server programs (initdb, pg_ctl) were not found on PATH or under "
                + "/usr/lib/postgresql/*/bin. Install the server (on Debian/Ubuntu: apt-get install postgresql) "
                + "or add its bin directory to PATH."
        )
    }

    // MARK: - Lifecycle

    /// Creates the cluster if needed, starts the server and creates the `cx` database if missing.
    ///
    /// If the server for this directory is already running (another process started it, e.g. a
    /// running `cx-server serve` while `cx-server migrate` runs), it is reused and ``stop()`` will
    /// leave it running. A `postmaster.pid` left by a server that died is removed first.
    ///
    /// - Throws: ``PostgresError/Code/clusterFailed`` with the command's output or the log's end.
    public func start() throws(PostgresError) {
        try checkPathLimits()
        let binaries = try Self.findBinaries()
        let owner = try ClusterOwner.current(dataDirectory: dataDirectory)

        try createDirectories(owner: owner)

        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: clusterDirectory + "/PG_VERSION") {
            logger.info("creating PostgreSQL cluster", metadata: ["directory": "\(clusterDirectory)"])
            try run(
                binaries.initdb,
                ["-D", clusterDirectory, "-U", Self.userName, "--auth=trust", "--encoding=UTF8", "--no-locale"],
                as: owner,
                what: "initdb"
            )
        }

        if try reuseRunningServer() {
            // Already running: by another process, or by an earlier start() of this object, which
            // then still owns it (startedHere stays as it was).
            logger.info("PostgreSQL is already running for this directory; using it", metadata: ["directory": "\(dataDirectory)"])
        } else {
            try launch(pgCtl: binaries.pgCtl, owner: owner)
            startedHere.withLockedValue { $0 = true }
        }
        try createDatabaseIfMissing()
    }

    /// Stops the server (`pg_ctl stop -m fast`), but only if ``start()`` started it.
    /// Fast shutdown rolls back open transactions and disconnects clients.
    public func stop() throws(PostgresError) {
        guard startedHere.withLockedValue({ $0 }) else {
            return
        }
        let binaries = try Self.findBinaries()
        let owner = try ClusterOwner.current(dataDirectory: dataDirectory)
        try run(binaries.pgCtl, ["-D", clusterDirectory, "-m", "fast", "-w", "-t", "60", "stop"], as: owner, what: "pg_ctl stop")
        startedHere.withLockedValue { $0 = false }
        logger.info("PostgreSQL stopped", metadata: ["directory": "\(dataDirectory)"])
    }

    /// Creates an empty cluster directory `/tmp/cx-pg-XXXXXX` with relaxed durability, for tests.
    /// Call ``start()`` to use it and ``destroy()`` to stop it and delete everything.
    public static func temporary(logger: Logger = Logger(label: "cx.postgres.embedded")) throws(PostgresError) -> EmbeddedPostgres {
        // Short and under /tmp so the socket path stays within the Unix limit and, when running
        // as root, the postgres user can reach it.
        var template = Array("/tmp/cx-pg-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let path = created else {
            throw PostgresError(.clusterFailed, "could not create a temporary directory under /tmp: \(Self.errnoText())")
        }
        // mkdtemp makes it 0700; the postgres user (when running as root) must be able to enter it.
        chmod(path, 0o755)
        return EmbeddedPostgres(dataDirectory: path, durability: .relaxed, logger: logger)
    }

    /// Stops the server if this object started it and deletes the whole data directory.
    public func destroy() {
        do {
            try stop()
        } catch {
            logger.warning("could not stop PostgreSQL before deleting it", metadata: ["error": "\(error)"])
        }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    // MARK: - Steps

    private func checkPathLimits() throws(PostgresError) {
        let socketPath = "\(socketDirectory)/.s.PGSQL.\(Self.port)"
        if socketPath.utf8.count > Self.maxSocketPathLength {
            throw PostgresError(
                .clusterFailed,
                "the data directory path is too long: the server's socket \(socketPath) would be "
                    + "\(socketPath.utf8.count) bytes, over the Unix limit of \(Self.maxSocketPathLength). "
                    + "Choose a shorter --data-dir, e.g. /var/lib/cx-server."
            )
        }
        // pg_ctl hands the server options to /bin/sh, and the socket directory setting is a list
        // (commas and quotes matter): allow only characters that need no quoting anywhere.
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+@")
        if let bad = dataDirectory.first(where: { !allowed.contains($0) }) {
            throw PostgresError(
                .clusterFailed,
                "the data directory \(dataDirectory) contains \"\(bad)\"; use a path made of letters, "
                    + "digits and / . _ - + @ only, e.g. /var/lib/cx-server"
            )
        }
    }

    private func createDirectories(owner: ClusterOwner) throws(PostgresError) {
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(
                atPath: dataDirectory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755]
            )
            if !fileManager.fileExists(atPath: socketDirectory) {
                try fileManager.createDirectory(atPath: socketDirectory, withIntermediateDirectories: false)
            }
        } catch {
            throw PostgresError(
                .clusterFailed,
                "could not create the data directory \(dataDirectory): \(error.localizedDescription)"
            )
        }
        // Only the cluster's owner (and root) may reach the socket: that is what makes trust auth safe.
        chmod(socketDirectory, 0o700)
        try owner.takeOwnership(of: dataDirectory, socketDirectory: socketDirectory)
    }

    /// Handles an existing `postmaster.pid`: removes it if its process is dead; returns `true` if
    /// a live server for this directory answers on the socket.
    private func reuseRunningServer() throws(PostgresError) -> Bool {
        let pidFile = clusterDirectory + "/postmaster.pid"
        guard let contents = try? String(contentsOfFile: pidFile, encoding: .utf8) else {
            return false
        }
        let firstLine = contents.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
        guard let pid = pid_t(firstLine.trimmingCharacters(in: .whitespaces)), pid > 0 else {
            logger.warning("removing unreadable postmaster.pid", metadata: ["file": "\(pidFile)"])
            try? FileManager.default.removeItem(atPath: pidFile)
            return false
        }
        if kill(pid, 0) != 0 && errno == ESRCH {
            logger.warning(
                "removing stale postmaster.pid left by a PostgreSQL server that is no longer running",
                metadata: ["pid": "\(pid)"]
            )
            try? FileManager.default.removeItem(atPath: pidFile)
            return false
        }
        // The process exists: it is probably our server, possibly still starting up.
        for _ in 0..<20 {
            if (try? PostgresConnection(connectionString: connectionString(database: "postgres") + " connect_timeout=5")) != nil {
                return true
            }
            usleep(250_000)
        }
        throw PostgresError(
            .clusterFailed,
            "\(pidFile) names process \(pid), which is running, but no PostgreSQL server answers at "
                + "\(socketDirectory). If that process is not this cluster's server, stop it or delete the file."
        )
    }

    private func launch(pgCtl: String, owner: ClusterOwner) throws(PostgresError) {
        var settings = [
            "-c listen_addresses=''",
            "-c unix_socket_directories=\(socketDirectory)",
            "-c unix_socket_permissions=0700",
            "-c port=\(Self.port)",
            "-c max_connections=\(maxConnections)",
        ]
        if durability == .relaxed {
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        }
        logger.info("starting PostgreSQL", metadata: ["directory": "\(dataDirectory)"])
        do {
            try run(
                pgCtl,
                ["-D", clusterDirectory, "-l", logFile, "-w", "-t", "60", "-o", settings.joined(separator: " "), "start"],
                as: owner,
                what: "pg_ctl start"
            )
        } catch {
            var message = error.message
            if let log = try? String(contentsOfFile: logFile, encoding: .utf8) {
                let tail = log.split(separator: "\n").suffix(15).joined(separator: "\n")
                message += "\nlast lines of \(logFile):\n\(tail)"
            }
            throw PostgresError(.clusterFailed, message)
        }
    }

    private func createDatabaseIfMissing() throws(PostgresError) {
        let connection = try PostgresConnection(connectionString: connectionString(database: "postgres"), logger: logger)
        let exists = try connection.query("SELECT 1 FROM pg_database WHERE datname = \(Self.databaseName)")
        guard exists.isEmpty else { return }
        do {
            // CREATE DATABASE takes no parameters; the name is a constant of this type.
            try connection.executeScript("CREATE DATABASE \(Self.databaseName)")
            logger.info("created database \(Self.databaseName)")
        } catch where error.sqlState == .duplicateDatabase {
            // Another process created it at the same moment: fine.
        }
    }

    // MARK: - Processes

    /// Runs a PostgreSQL program (as `owner`), failing with its output if it exits non-zero.
    private func run(_ program: String, _ arguments: [String], as owner: ClusterOwner, what: String) throws(PostgresError) {
        let (executable, fullArguments) = owner.command(program, arguments)
        logger.debug("running \(what)", metadata: ["command": "\(([executable] + fullArguments).joined(separator: " "))"])
        // Working directory: the data directory, because the postgres user may not be able to
        // enter ours (e.g. /root). Output goes to a file: nothing can block on a full pipe.
        let outcome = try ChildProcess.run(
            executable,
            fullArguments,
            workingDirectory: dataDirectory,
            outputFile: dataDirectory + "/.cx-command-output-\(getpid())"
        )
        guard outcome.succeeded else {
            let status = outcome.exitStatus.map { "exit status \($0)" } ?? "killed by a signal"
            throw PostgresError(
                .clusterFailed,
                "\(what) failed (\(status)) for \(dataDirectory):\n"
                    + outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
            )
        }
    }

    // MARK: - Helpers

    /// Quotes a value for libpq's keyword syntax: single quotes, with `\` and `'` backslash-escaped.
    static func quoted(_ value: String) -> String {
        var result = "'"
        for character in value {
            if character == "\\" || character == "'" {
                result.append("\\")
            }
            result.append(character)
        }
        return result + "'"
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
