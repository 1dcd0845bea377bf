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
    /// ``rows(_:)`` sends for the upsert. `displayed` is the state's
    /// ``RecordState/displayedFields``; `scratch` holds each JSON column while it is escaped
    /// into the row (one writer for every column of every row: a push encodes thousands).
    static func copyRow(
        _ state: RecordState, displayed: [(name: String, value: String)], scratch: inout JSONWriter, into out: inout PostgresCopyText
    ) {
        let (values, extra) = columnValues(displayed, of: state.kind)
        out.text(state.id)
        for (position, field) in Schema.fields(of: state.kind).enumerated() where !isGenerated(field.name, of: state.kind) {
            out.optionalText(values[position])
        }
        out.text(PostgresArrayLiteral.text(state.tagNames))
        scratch.removeAll()
        encodeExtra(extra, into: &scratch)
        out.text(bytes: scratch.bytes)
        out.bool(state.hasConflicts)
        out.bool(state.isDeleted)
        scratch.removeAll()
        state.encode(into: &scratch)
        out.text(bytes: scratch.bytes)
        out.endRow()
    }
}
