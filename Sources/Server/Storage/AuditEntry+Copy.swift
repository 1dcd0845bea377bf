import CXModel
import CXPostgres

extension AuditEntry {
    /// `COPY cx.changes (seq, record_id, kind, operation, user_id, user_name, replica_id,
    /// fields, has_conflicts) FROM STDIN`: the columns the push's audit insert fills.
    static let copySQL =
        "COPY cx.changes (seq, record_id, kind, operation, user_id, user_name, replica_id, fields, has_conflicts) FROM STDIN"

    /// The audit row of a write of `merged` (replacing `previous`) by `writer` for ``copySQL``,
    /// without its leading `seq` (the record's).
    static func copyRow(previous: RecordState?, merged: RecordState, by writer: RecordStore.Writer, into out: inout PostgresCopyText) {
        out.text(merged.id)
        out.text(merged.kind.rawValue)
        out.text(previous == nil ? "insert" : "update")
        out.optionalText(writer.userID.map { String($0) })
        out.text(writer.userName)
        out.text(writer.replicaID)
        var w = JSONWriter(capacity: 1024)
        encodeFields(previous: previous, merged: merged, into: &w)
        out.text(bytes: w.bytes)
        out.bool(merged.hasConflicts)
        out.endRow()
    }
}
