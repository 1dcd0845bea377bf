/// One row of ``PostgresRows``: raw text by column name or index, and typed decoding.
public struct PostgresRow: Sendable {
    let storage: PostgresRows.Storage
    let row: Int

    /// The column names of the result this row belongs to.
    public var columns: [String] { storage.columns }

    /// The raw text of the column at `index`, or `nil` for SQL `NULL`.
    public subscript(index: Int) -> String? {
        precondition(storage.columns.indices.contains(index), "column index \(index) out of range")
        return storage.values[row * storage.columns.count + index]
    }

    /// The raw text of the column named `column`, or `nil` for SQL `NULL` or an unknown column.
    /// Use `decode(_:as:)` to get an error for an unknown column instead.
    public subscript(column: String) -> String? {
        guard let index = storage.columnIndex[column] else { return nil }
        return self[index]
    }

    /// Whether the result has a column named `column`.
    public func contains(column: String) -> Bool {
        storage.columnIndex[column] != nil
    }

    /// Decodes the column named `column` as a non-optional `T`.
    ///
    /// - Throws: ``PostgresError/Code/decodingFailed`` if the column does not exist, is `NULL`,
    ///   or its text is not a valid `T`; the message names the column.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        let index = try columnIndex(column)
        return try decode(index, as: type)
    }

    /// Decodes the column named `column` as an optional `T`: `NULL` gives `nil`.
    ///
    /// - Throws: ``PostgresError/Code/decodingFailed`` if the column does not exist or its
    ///   text is not a valid `T`.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T?.Type = T?.self) throws(PostgresError) -> T? {
        let index = try columnIndex(column)
        return try decode(index, as: type)
    }

    /// Decodes the column at `index` as a non-optional `T`.
    ///
    /// - Throws: ``PostgresError/Code/decodingFailed`` if the index is out of range, the value is `NULL`
    ///   or its text is not a valid `T`.
    public func decode<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard let value = try decode(index, as: T?.self) else {
            throw PostgresError(
                .decodingFailed,
                "column \"\(columnName(index))\" is NULL but \(T.self) is not optional; decode it as \(T.self)? instead"
            )
        }
        return value
    }

    /// Decodes the column at `index` as an optional `T`: `NULL` gives `nil`.
    ///
    /// - Throws: ``PostgresError/Code/decodingFailed`` if the index is out of range or the text is not a valid `T`.
    public func decode<T: PostgresDecodable>(_ index: Int, as type: T?.Type = T?.self) throws(PostgresError) -> T? {
        guard storage.columns.indices.contains(index) else {
            throw PostgresError(
                .decodingFailed,
                "column index \(index) is out of range; the result has \(storage.columns.count) column(s)"
            )
        }
        guard let text = self[index] else { return nil }
        guard let value = T(postgresText: text) else {
            // Cut long values so a mismatched blob does not flood the log.
            let shown = text.count > 64 ? String(text.prefix(64)) + "…" : text
            throw PostgresError(
                .decodingFailed,
                "column \"\(columnName(index))\" has value \"\(shown)\", which is not a valid \(T.self)"
            )
        }
        return value
    }

    private func columnIndex(_ column: String) throws(PostgresError) -> Int {
        guard let index = storage.columnIndex[column] else {
            throw PostgresError(
                .decodingFailed,
                "the result has no column \"\(column)\"; its columns are \(storage.columns.joined(separator: ", "))"
            )
        }
        return index
    }

    private func columnName(_ index: Int) -> String {
        storage.columns.indices.contains(index) ? storage.columns[index] : "#\(index)"
    }
}
