import CXModel
import CXPostgres

extension AuditEntry {
    /// `COPY cx.changes (seq, record_id, kind, operation, user_id, user_name, replica_id,
    /// fields, has_conflicts) FROM STDIN`: the columns the push's audit insert fills.
    static let copySQL =
        "COPY cx.changes (seq, record_id, kind, operation, user_id, user_name, replica_id, fields, has_conflicts) FROM STDIN"

    /// The audit row of a write of `merged` (replacing `previous`) by `writer` for ``copySQL``,
    /// without its leading `seq` (the record's). `displayed` is `merged`'s
    /// ``RecordState/displayedFields``; `scratch` holds the `fields` JSON while it is escaped.
    static func copyRow(
        previous: RecordState?, merged: RecordState, displayed: [(name: String, value: String)], by writer: RecordStore.Writer,
        scratch: inout JSONWriter, into out: inout PostgresCopyText
    ) {
        out.text(merged.id)
        out.text(merged.kind.rawValue)
        out.text(previous == nil ? "insert" : "update")
        out.optionalText(writer.userID.map { String($0) })
        out.text(writer.userName)
        out.text(writer.replicaID)
        scratch.removeAll()
        encodeFields(fieldChanges(previous: previous, merged: merged, displayed: displayed), into: &scratch)
        out.text(bytes: scratch.bytes)
        out.bool(merged.hasConflicts)
        out.endRow()
    }
}
