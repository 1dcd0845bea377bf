import CLibPQ

/// `COPY … TO STDOUT` and `COPY … FROM STDIN`: bulk transfer in PostgreSQL's text format.
extension PostgresConnection {
    /// Runs a `COPY … TO STDOUT` and returns everything it produced.
    ///
    /// - Important: `sql` is sent as is: it must be a trusted statement written by the program, never
    ///   user input.
    /// - Throws: ``PostgresError`` if the statement is not a `COPY … TO STDOUT` or fails.
    public func copyOut(_ sql: String) throws(PostgresError) -> [UInt8] {
        let handle = try liveHandle()
        try startCopy(handle, sql, expecting: PGRES_COPY_OUT, "COPY … TO STDOUT")
        var output: [UInt8] = []
        var failure: PostgresError?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let count = PQgetCopyData(handle, &buffer, 0)
            if count > 0, let buffer {
                output.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: Int(count)))
                PQfreemem(buffer)
            } else if count == -1 {
                break  // COPY finished; the final status comes from PQgetResult.
            } else {
                failure = lostOrFailed(message: Self.trimmed(PQerrorMessage(handle)))
                break
            }
        }
        try finishCopy(handle, failure: failure)
        return output
    }

    /// Runs a `COPY … FROM STDIN` and sends `data` as its input.
    ///
    /// - Important: `sql` is sent as is: it must be a trusted statement written by the program, never
    ///   user input. `data` is sent as raw COPY input in the statement's format.
    /// - Returns: The number of rows copied.
    /// - Throws: ``PostgresError`` if the statement is not a `COPY … FROM STDIN` or the data is rejected.
    @discardableResult
    public func copyIn(_ sql: String, data: [UInt8]) throws(PostgresError) -> Int {
        let handle = try liveHandle()
        try startCopy(handle, sql, expecting: PGRES_COPY_IN, "COPY … FROM STDIN")
        // Chunks keep libpq from copying the whole input into its own buffer at once.
        let chunkSize = 1 << 20
        var failure: PostgresError?
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = min(chunkSize, bytes.count - offset)
                let chunk = bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self)
                if PQputCopyData(handle, chunk, Int32(count)) != 1 {
                    failure = lostOrFailed(message: Self.trimmed(PQerrorMessage(handle)))
                    return
                }
                offset += count
            }
        }
        // With an error message, PQputCopyEnd makes the server abort the COPY instead of committing it.
        if PQputCopyEnd(handle, failure == nil ? nil : "client failed to send COPY data") != 1, failure == nil {
            failure = lostOrFailed(message: Self.trimmed(PQerrorMessage(handle)))
        }
        return try finishCopy(handle, failure: failure)
    }


    // MARK: - COPY plumbing

    private func startCopy(
        _ handle: OpaquePointer,
        _ sql: String,
        expecting expected: ExecStatusType,
        _ kind: String
    ) throws(PostgresError) {
        logger.trace("copy", metadata: ["sql": "\(sql)"])
        guard let result = PQexec(handle, sql) else {
            throw lostOrFailed(message: Self.trimmed(PQerrorMessage(handle)))
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == expected else {
            if status == PGRES_COPY_IN || status == PGRES_COPY_OUT {
                abandonCopy(status)
            } else if status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE {
                throw error(from: result)
            }
            throw PostgresError(.queryFailed, "expected a \(kind) statement")
        }
    }

    /// Reads the COPY's final status and the end of the results.
    @discardableResult
    private func finishCopy(_ handle: OpaquePointer, failure: PostgresError?) throws(PostgresError) -> Int {
        var failure = failure
        var rows = 0
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK {
                rows = Int(Self.string(PQcmdTuples(result)) ?? "") ?? 0
            } else if status == PGRES_COPY_IN || status == PGRES_COPY_OUT {
                // Still copying (only possible after a local failure): end it, then keep reading.
                abandonCopy(status, drain: false)
            } else if failure == nil {
                failure = error(from: result)
            }
            if PQstatus(handle) == CONNECTION_BAD { break }
        }
        if let failure { throw failure }
        return rows
    }

    /// Ends a COPY that was not wanted so the connection can be used again.
    func abandonCopy(_ status: ExecStatusType, drain: Bool = true) {
        guard let handle else { return }
        if status == PGRES_COPY_IN {
            _ = PQputCopyEnd(handle, "COPY is not supported here")
        } else {
            var buffer: UnsafeMutablePointer<CChar>?
            while PQgetCopyData(handle, &buffer, 0) > 0 {
                PQfreemem(buffer)
                buffer = nil
            }
        }
        guard drain else { return }
        while let result = PQgetResult(handle) {
            let next = PQresultStatus(result)
            PQclear(result)
            if next == PGRES_COPY_IN || next == PGRES_COPY_OUT || PQstatus(handle) == CONNECTION_BAD { break }
        }
    }
}
