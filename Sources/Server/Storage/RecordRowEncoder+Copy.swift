import CXModel
import CXPostgres

extension RecordRowEncoder {
    /// `COPY <table> (seq, id, <typed columns>, tags, extra, has_conflicts, deleted, state) FROM
    /// STDIN`: the columns ``rows(_:)`` fills, with `seq` first (see ``NewRecordWrites``).
    /// `created_at` and `updated_at` take their defaults, as in an upsert's insert.
    static func copySQL(for kind: RecordKind) -> String {
        "COPY \(RecordStore.table(of: kind)) (\(copyColumns(for: kind).joined(separator: ", "))) FROM STDIN"
    }

    /// The columns of ``copySQL(for:)``, quoted where a field's name needs it, `seq` first.
    static func copyColumns(for kind: RecordKind) -> [String] {
        let quoted = Schema.fields(of: kind).filter { !isGenerated($0.name, of: kind) }.map { "\"\($0.name)\"" }
        return ["seq", "id"] + quoted + ["tags", "extra", "has_conflicts", "deleted", "state"]
    }

    /// The row of `state` for ``copySQL(for:)``, without its leading `seq`: the same values
    /// ``rows(_:)`` sends for the upsert.
    static func copyRow(_ state: RecordState, into out: inout PostgresCopyText) {
        let (values, extra) = columnValues(of: state)
        out.text(state.id)
        for field in Schema.fields(of: state.kind) where !isGenerated(field.name, of: state.kind) {
            out.optionalText(values[field.name])
        }
        out.text(PostgresArrayLiteral.text(state.tagNames))
        var w = JSONWriter(capacity: 4096)
        encodeExtra(extra, into: &w)
        out.text(bytes: w.bytes)
        out.bool(state.hasConflicts)
        out.bool(state.isDeleted)
        w = JSONWriter(capacity: 4096)
        state.encode(into: &w)
        out.text(bytes: w.bytes)
        out.endRow()
    }
}
