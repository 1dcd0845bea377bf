import CLibPQ
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One connection to PostgreSQL through libpq (`PGconn`).
///
/// Every method blocks the calling thread until the server answers, so call them from a thread
/// that may block: ``PostgresPool/withConnection(_:)`` runs its closure on a dedicated thread pool,
/// never on a NIO event loop or Swift's cooperative pool.
///
/// A connection is **not** `Sendable`: libpq connections must not be used by two threads at once.
/// It belongs to one thread at a time; the pool hands it between threads under its lock.
public final class PostgresConnection {
    /// The libpq handle; `nil` after ``close()``.
    private(set) var handle: OpaquePointer?
    /// Names of the statements prepared on this session (lost with it on ``reset()``).
    private var prepared: Set<String> = []
    let logger: Logger
    /// Receives server notices; kept alive here because libpq only holds a raw pointer to it.
    private let noticeSink: NoticeSink

    /// Opens a connection.
    ///
    /// - Parameters:
    ///   - connectionString: A URL (`postgresql://user@host:5432/db?sslmode=disable`) or libpq
    ///     keywords (`host=/run/cx dbname=cx user=cx`). Anything left out comes from libpq's `PG*`
    ///     environment variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`, …),
    ///     `~/.pgpass` and its defaults; an empty string uses only those.
    ///   - logger: Receives connection events, statements at `trace` level and server notices.
    /// - Throws: ``PostgresError/Code/connectionFailed`` with libpq's explanation.
    public init(connectionString: String, logger: Logger = Logger(label: "cx.postgres")) throws(PostgresError) {
        self.logger = logger
        self.noticeSink = NoticeSink(logger: logger)
        // expand_dbname = 1 parses `dbname` as a full connection string or URL, like psql does.
        // The fallback application name goes before it so the string can override it; the
        // client encoding goes after it so it is always UTF-8, the only encoding we decode.
        let keywords = ["fallback_application_name", "dbname", "client_encoding"]
        let values = ["cx", connectionString, "UTF8"]
        let handle = Self.withCStringArray(keywords) { keywordPointers in
            Self.withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let handle else {
            throw PostgresError(.connectionFailed, "could not connect to PostgreSQL: libpq is out of memory")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let reason = Self.trimmed(PQerrorMessage(handle))
            PQfinish(handle)
            throw PostgresError(
                .connectionFailed,
                "could not connect to PostgreSQL: \(reason). Check the connection string (DATABASE_URL or "
                    + "--database-url) or the PG* environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE, "
                    + "PGPASSWORD), and that the server is running and accepts this user."
            )
        }
        self.handle = handle
        PQsetNoticeReceiver(handle, noticeReceiver, Unmanaged.passUnretained(noticeSink).toOpaque())
        logger.debug(
            "connected to PostgreSQL",
            metadata: [
                "host": "\(Self.string(PQhost(handle)) ?? "")",
                "database": "\(Self.string(PQdb(handle)) ?? "")",
                "user": "\(Self.string(PQuser(handle)) ?? "")",
                "server_version": "\(PQserverVersion(handle))",
            ]
        )
    }

    deinit {
        if let handle {
            PQfinish(handle)
        }
    }

    /// Closes the connection now instead of at deinitialization; later calls fail with
    /// ``PostgresError/Code/connectionLost``.
    public func close() {
        if let handle {
            PQfinish(handle)
            self.handle = nil
        }
    }

    // MARK: - Health

    /// Whether the connection is usable, as far as can be told without a round trip.
    ///
    /// Reads whatever the server sent while the connection was idle, so a backend that was
    /// terminated or a server that shut down is noticed here rather than by the next query.
    /// A `false` answer is final until ``reset()``.
    public var isHealthy: Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        // PQconsumeInput never blocks: libpq's socket is non-blocking. Reading the end of the
        // stream marks the connection bad. Twice, because a terminated backend first sends its
        // FATAL message and only then closes, which may arrive as two reads.
        for _ in 0..<2 where Self.hasPendingInput(PQsocket(handle)) {
            if PQconsumeInput(handle) == 0 { break }
        }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Whether the connection is inside a transaction block (after `BEGIN`, before `COMMIT`/`ROLLBACK`).
    public var isInTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Reconnects with the same parameters (libpq's `PQreset`), e.g. after ``PostgresError/Code/connectionLost``.
    /// - Throws: ``PostgresError/Code/connectionFailed`` if the server cannot be reached.
    public func reset() throws(PostgresError) {
        guard let handle else {
            throw PostgresError(.connectionFailed, "cannot reset a closed connection; open a new one")
        }
        PQreset(handle)
        prepared = []
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PostgresError(
                .connectionFailed,
                "could not reconnect to PostgreSQL: \(Self.trimmed(PQerrorMessage(handle))). "
                    + "Check that the server is running."
            )
        }
        logger.info("reconnected to PostgreSQL")
    }

    // MARK: - Queries

    /// Runs one statement with its interpolated values as bind parameters (`PQexecParams`).
    ///
    /// - Returns: All rows, copied into Swift memory, and the affected-row count.
    /// - Throws: ``PostgresError/Code/queryFailed`` with the server's message and SQLSTATE, or
    ///   ``PostgresError/Code/connectionLost`` if the connection broke (it is then unusable).
    @discardableResult
    public func query(_ query: PostgresQuery) throws(PostgresError) -> PostgresRows {
        let handle = try liveHandle()
        try Self.refuseNUL(in: query)
        logger.trace("query", metadata: ["sql": "\(query.sql)", "parameters": "\(query.binds.count)"])
        let result = Self.withCStringArray(query.binds) { values in
            PQexecParams(handle, query.sql, Int32(query.binds.count), nil, values, nil, nil, 0)
        }
        return try take(result)
    }

    /// Runs `query` as the named prepared statement `name`, preparing it on first use in this
    /// session (`PQprepare`, then `PQexecPrepared`): PostgreSQL parses it once per session and,
    /// once its generic plan is judged no worse than planning each time, plans it once too.
    /// Every use of a name must carry the same SQL text.
    @discardableResult
    public func query(_ query: PostgresQuery, preparedAs name: String) throws(PostgresError) -> PostgresRows {
        let handle = try liveHandle()
        try Self.refuseNUL(in: query)
        logger.trace("query", metadata: ["prepared": "\(name)", "parameters": "\(query.binds.count)"])
        if !prepared.contains(name) {
            _ = try take(PQprepare(handle, name, query.sql, Int32(query.binds.count), nil))
            prepared.insert(name)
        }
        let result = Self.withCStringArray(query.binds) { values in
            PQexecPrepared(handle, name, Int32(query.binds.count), values, nil, nil, 0)
        }
        return try take(result)
    }

    /// Throws when the SQL or a value holds a NUL: libpq passes them as C strings, so a NUL
    /// would silently cut the value short.
    private static func refuseNUL(in query: PostgresQuery) throws(PostgresError) {
        if containsNUL(query.sql) || query.binds.contains(where: { $0.map(containsNUL) == true }) {
            throw PostgresError(
                .queryFailed,
                "a text value contains a NUL character, which PostgreSQL text cannot store; "
                    + "bind binary data as [UInt8] (bytea) instead"
            )
        }
    }

    /// Runs several `;`-separated statements in one round trip (`PQexec`), e.g. a migration file.
    ///
    /// - Important: The SQL is sent as is, without parameters. It must be trusted text that ships
    ///   with the program (migrations, fixtures) and must **never** contain user input;
    ///   use ``query(_:)`` for anything with values.
    /// - Throws: ``PostgresError`` for the first statement that fails; the statements before it
    ///   are committed unless the script wraps itself in a transaction.
    public func executeScript(_ sql: String) throws(PostgresError) {
        let handle = try liveHandle()
        logger.trace("script", metadata: ["bytes": "\(sql.utf8.count)"])
        try take(PQexec(handle, sql))
    }

    /// Runs `body` in a transaction: `BEGIN`, then `COMMIT` if `body` returns, `ROLLBACK` if it throws.
    ///
    /// The error `body` threw is rethrown unchanged (a failing `ROLLBACK` is only logged, because the
    /// original error is the one that explains what happened). If a statement failed inside `body` but
    /// `body` caught the error and returned, the server has already aborted the transaction and
    /// `COMMIT` would silently roll back: that is reported as ``PostgresError/Code/queryFailed``.
    ///
    /// - Parameters:
    ///   - isolation: The isolation level; `nil` uses the server's default (`READ COMMITTED`).
    ///   - body: The work to do; it receives this connection.
    /// - Throws: The error from `body`, or a ``PostgresError`` from `BEGIN`/`COMMIT`. Transactions
    ///   cannot be nested: calling this inside a transaction throws.
    public func transaction<T>(
        isolation: PostgresIsolationLevel? = nil,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        try refuseNestedTransaction()
        // The isolation level comes from a closed enum, never from input, so it is safe as SQL text.
        try query(PostgresQuery(unsafeSQL: isolation.map { "BEGIN ISOLATION LEVEL \($0.sql)" } ?? "BEGIN"))
        return try finishTransaction { try body(self) }
    }

    /// A transaction (as ``transaction(isolation:_:)``, at the server's default isolation) whose
    /// first statement, `opening`, goes in the same round trip as `BEGIN`; `body` receives its
    /// rows. One round trip less for work that must start with a read.
    ///
    /// - Important: `opening` is sent as is, without parameters, like ``executeScript(_:)``: it
    ///   must be one trusted statement that ships with the program, never user input.
    public func transaction<T>(opening: String, _ body: (PostgresConnection, PostgresRows) throws -> T) throws -> T {
        try refuseNestedTransaction()
        let handle = try liveHandle()
        let rows: PostgresRows
        do {
            // A simple query of two statements answers with the last one's result.
            rows = try take(PQexec(handle, "BEGIN; " + opening))
        } catch {
            if isInTransaction { _ = try? query("ROLLBACK") }
            throw error
        }
        return try finishTransaction { try body(self, rows) }
    }

    private func refuseNestedTransaction() throws(PostgresError) {
        guard !isInTransaction else {
            throw PostgresError(
                .queryFailed,
                "transaction() was called inside a transaction; nested transactions are not supported"
            )
        }
    }

    /// Runs `body` inside the transaction just begun, then commits, or rolls back if it throws.
    private func finishTransaction<T>(_ body: () throws -> T) throws -> T {
        let value: T
        do {
            value = try body()
        } catch {
            do {
                try query("ROLLBACK")
            } catch let rollbackError {
                logger.warning(
                    "ROLLBACK after a failed transaction body failed",
                    metadata: ["error": "\(rollbackError)"]
                )
            }
            throw error
        }
        let commit = try query("COMMIT")
        if commit.commandTag == "ROLLBACK" {
            throw PostgresError(
                .queryFailed,
                "the transaction was rolled back because a statement in it failed (the error was caught "
                    + "inside the transaction body); nothing was committed"
            )
        }
        return value
    }

    // MARK: - Results

    /// Copies a result into Swift memory and frees it, or turns it into an error.
    @discardableResult
    func take(_ result: OpaquePointer?) throws(PostgresError) -> PostgresRows {
        guard let result else {
            // libpq returns no result when it could not even send the statement.
            throw lostOrFailed(message: Self.trimmed(PQerrorMessage(handle)))
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return Self.copyRows(result)
        case PGRES_COPY_IN, PGRES_COPY_OUT:
            abandonCopy(status)
            throw PostgresError(
                .queryFailed,
                "COPY FROM STDIN / TO STDOUT cannot run through query() or executeScript(); use copyIn/copyOut"
            )
        default:
            throw error(from: result)
        }
    }

    private static func copyRows(_ result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(string(PQfname(result, Int32(column))) ?? "?column?")
        }
        var values: [String?] = []
        values.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: length)
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        let commandTag = string(PQcmdStatus(result)) ?? ""
        let affectedRows = Int(string(PQcmdTuples(result)) ?? "") ?? 0
        return PostgresRows(columns: columns, values: values, affectedRows: affectedRows, commandTag: commandTag)
    }

    /// Builds an error from a failed result's fields (primary message, detail, hint, SQLSTATE).
    func error(from result: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            Self.string(PQresultErrorField(result, Int32(code.asciiValue!)))
        }
        let sqlState = field("C").map(PostgresError.SQLState.init(rawValue:))  // PG_DIAG_SQLSTATE
        var message = field("M") ?? Self.trimmed(PQresultErrorMessage(result))  // PG_DIAG_MESSAGE_PRIMARY
        if message.isEmpty {
            message = Self.trimmed(PQerrorMessage(handle))
        }
        if let detail = field("D") {  // PG_DIAG_MESSAGE_DETAIL
            message += "\nDETAIL: \(detail)"
        }
        if let hint = field("H") {  // PG_DIAG_MESSAGE_HINT
            message += "\nHINT: \(hint)"
        }
        return lostOrFailed(message: message, sqlState: sqlState)
    }

    /// Classifies a failure as a lost connection or a failed statement.
    func lostOrFailed(message: String, sqlState: PostgresError.SQLState? = nil) -> PostgresError {
        // The server said the connection cannot be used again (see SQLState.meansConnectionUnusable).
        let lostState = sqlState?.meansConnectionUnusable ?? false
        let bad = handle.map { PQstatus($0) == CONNECTION_BAD } ?? true
        if bad || lostState {
            return PostgresError(
                .connectionLost,
                "the connection to PostgreSQL was lost: \(message.isEmpty ? "no further detail" : message). "
                    + "Whatever was not committed is rolled back; retry on a new connection (or call reset()).",
                sqlState: sqlState
            )
        }
        return PostgresError(.queryFailed, message.isEmpty ? "the statement failed" : message, sqlState: sqlState)
    }

    // MARK: - Helpers

    func liveHandle() throws(PostgresError) -> OpaquePointer {
        guard let handle else {
            throw PostgresError(.connectionLost, "the connection was closed; open a new one")
        }
        return handle
    }

    static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer, pointer.pointee != 0 else { return nil }
        return String(cString: pointer)
    }

    static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
        string(UnsafePointer(pointer))
    }

    static func trimmed(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        var text = string(pointer) ?? ""
        while let last = text.last, last.isWhitespace {
            text.removeLast()
        }
        return text
    }

    /// Whether `string` holds a NUL byte (`memchr` over its contiguous UTF-8).
    private static func containsNUL(_ string: String) -> Bool {
        var string = string
        return string.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return false }
            return memchr(base, 0, bytes.count) != nil
        }
    }

    /// Calls `body` with NUL-terminated copies of `strings` (`nil` stays a null pointer),
    /// all in one buffer so a statement with many parameters costs one allocation.
    private static func withCStringArray<R>(
        _ strings: [String?],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        var buffer: [CChar] = []
        buffer.reserveCapacity(strings.reduce(0) { $0 + ($1?.utf8.count ?? 0) + 1 })
        var offsets: [Int?] = []
        offsets.reserveCapacity(strings.count)
        for string in strings {
            guard let string else {
                offsets.append(nil)
                continue
            }
            offsets.append(buffer.count)
            // One copy of the contiguous UTF-8 (binds are often large JSON documents).
            var contiguous = string
            contiguous.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { buffer.append(contentsOf: $0) }
            }
            buffer.append(0)
        }
        return buffer.withUnsafeBufferPointer { base in
            let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset.map { base.baseAddress! + $0 }
            }
            return pointers.withUnsafeBufferPointer { body($0.baseAddress ?? UnsafePointer(bitPattern: 1)!) }
        }
    }

    private static func withCStringArray<R>(
        _ strings: [String],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        // The keyword/value arrays of PQconnectdbParams end with a NULL entry.
        withCStringArray(strings.map { Optional($0) } + [nil], body)
    }

    /// Whether the socket has bytes (or end of stream) waiting, without blocking.
    private static func hasPendingInput(_ socket: Int32) -> Bool {
        guard socket >= 0 else { return false }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }
}

/// `PostgresConnection` is deliberately not `Sendable`: a libpq connection is not thread-safe.
@available(*, unavailable)
extension PostgresConnection: Sendable {}

/// Routes server notices (`NOTICE`, `WARNING`, …) to the connection's logger instead of stderr.
private final class NoticeSink {
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }
}

/// libpq's notice callback; `arg` is the connection's ``NoticeSink``.
private func noticeReceiver(_ arg: UnsafeMutableRawPointer?, _ result: OpaquePointer?) {
    guard let arg, let result else { return }
    let sink = Unmanaged<NoticeSink>.fromOpaque(arg).takeUnretainedValue()
    let severity = PostgresConnection.string(PQresultErrorField(result, Int32(Character("V").asciiValue!))) ?? "NOTICE"
    let message = PostgresConnection.string(PQresultErrorField(result, Int32(Character("M").asciiValue!))) ?? ""
    switch severity {
    case "WARNING":
        sink.logger.warning("PostgreSQL: \(message)")
    case "FATAL", "PANIC", "ERROR":
        sink.logger.error("PostgreSQL: \(message)")
    default:
        sink.logger.debug("PostgreSQL \(severity.lowercased()): \(message)")
    }
}
