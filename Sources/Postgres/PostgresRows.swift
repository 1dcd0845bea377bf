/// The complete result of one statement, copied out of libpq's `PGresult`.
///
/// All values are copied into Swift memory before the `PGresult` is freed, so a `PostgresRows`
/// is plain immutable data: `Sendable`, cheap to pass around, and independent of the connection.
/// Values are the server's text format; decode them with `PostgresRow.decode(_:as:)`.
public struct PostgresRows: RandomAccessCollection, Sendable {
    /// Shared immutable storage so each ``PostgresRow`` is only a reference and an index.
    final class Storage: Sendable {
        let columns: [String]
        let columnIndex: [String: Int]
        /// Row-major values: row `r`, column `c` is at `r * columns.count + c`.
        let values: [String?]

        init(columns: [String], values: [String?]) {
            self.columns = columns
            // The first column of a given name wins, as in most drivers (`SELECT a.id, b.id`).
            var index: [String: Int] = [:]
            for (i, name) in columns.enumerated() where index[name] == nil {
                index[name] = i
            }
            self.columnIndex = index
            self.values = values
        }
    }

    let storage: Storage

    /// The column names, in result order.
    public var columns: [String] { storage.columns }

    /// The number of rows affected by `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `SELECT`, `COPY` …
    /// (libpq's `PQcmdTuples`); 0 for commands that do not report a count.
    public let affectedRows: Int

    /// The command tag the server sent, e.g. `INSERT 0 3` or `UPDATE 1`.
    public let commandTag: String

    init(columns: [String], values: [String?], affectedRows: Int, commandTag: String) {
        self.storage = Storage(columns: columns, values: values)
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    /// The index of the first row.
    public var startIndex: Int { 0 }

    /// One past the index of the last row.
    public var endIndex: Int {
        storage.columns.isEmpty ? 0 : storage.values.count / storage.columns.count
    }

    /// The row at `position`.
    public subscript(position: Int) -> PostgresRow {
        precondition(indices.contains(position), "row index \(position) out of range 0..<\(endIndex)")
        return PostgresRow(storage: storage, row: position)
    }
}
