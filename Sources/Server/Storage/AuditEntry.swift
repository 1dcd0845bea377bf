import CXModel

/// The audit trail's view of one merged write: which displayed values changed.
///
/// Stored in `cx.changes.fields` as `[{"field", "from", "to"}]`: the fixed fields in schema
/// order, then `extra.*` fields by name, then `tags` (comma-separated) and `deleted` (`"true"`
/// when deleted, null when live). An insert lists every field that has a value.
enum AuditEntry {
    /// The displayed values that differ between `previous` (`nil`: none) and `merged`.
    static func fieldChanges(previous: RecordState?, merged: RecordState) -> [FieldChange] {
        fieldChanges(previous: previous, merged: merged, displayed: merged.displayedFields)
    }

    /// ``fieldChanges(previous:merged:)`` given `merged`'s ``RecordState/displayedFields``.
    static func fieldChanges(previous: RecordState?, merged: RecordState, displayed: [(name: String, value: String)]) -> [FieldChange] {
        guard let previous else { return insertion(of: merged, displayed: displayed) }
        return comparison(previous: previous, merged: merged)
    }

    /// An insert's changes: every displayed value of `state`, from nothing, in the same order
    /// as ``comparison(previous:merged:)`` gives them. A push of new records writes one audit
    /// row per record, and the dictionaries a comparison builds were an eighth of the server's
    /// CPU on such a push (docs/benchmarks.md, session 16).
    static func insertion(of state: RecordState, displayed: [(name: String, value: String)]) -> [FieldChange] {
        let (values, _) = RecordRowEncoder.columnValues(displayed, of: state.kind)
        var changes: [FieldChange] = []
        changes.reserveCapacity(displayed.count + 2)
        for (field, value) in zip(Schema.fields(of: state.kind), values) {
            if let value { changes.append(FieldChange(field: field.name, from: nil, to: value)) }
        }
        // A state's registers are in name order, so its `extra.*` fields come sorted.
        for (name, value) in displayed where name.utf8.starts(with: Schema.extraPrefix.utf8) {
            changes.append(FieldChange(field: name, from: nil, to: value))
        }
        let tags = state.tagNames
        if !tags.isEmpty { changes.append(FieldChange(field: "tags", from: nil, to: tags.joined(separator: ", "))) }
        if state.isDeleted { changes.append(FieldChange(field: RecordState.deletedPseudoField, from: nil, to: "true")) }
        return changes
    }

    /// The displayed values that differ between `previous` (`nil`: none) and `merged`, compared
    /// field by field.
    static func comparison(previous: RecordState?, merged: RecordState) -> [FieldChange] {
        let before = previous.map(displayed) ?? [:]
        let after = displayed(merged)
        let fixed = Schema.fields(of: merged.kind).map(\.name)
        let extra = Set(before.keys).union(after.keys).filter { $0.hasPrefix(Schema.extraPrefix) }.sorted()
        var changes: [FieldChange] = []
        for field in fixed + extra + ["tags", RecordState.deletedPseudoField] where before[field] != after[field] {
            changes.append(FieldChange(field: field, from: before[field], to: after[field]))
        }
        return changes
    }

    /// Writes the row object `{"id","operation","user_id","user_name","replica_id","fields","has_conflicts"}`
    /// for `cx.changes`.
    static func encodeRow(previous: RecordState?, merged: RecordState, by writer: RecordStore.Writer, into w: inout JSONWriter) {
        w.raw("{\"id\":")
        w.string(merged.id)
        w.raw(",\"operation\":")
        w.string(previous == nil ? "insert" : "update")
        w.raw(",\"user_id\":")
        if let userID = writer.userID { w.number(userID) } else { w.raw("null") }
        w.raw(",\"user_name\":")
        w.string(writer.userName)
        w.raw(",\"replica_id\":")
        w.string(writer.replicaID)
        w.raw(",\"fields\":")
        encodeFields(previous: previous, merged: merged, into: &w)
        w.raw(",\"has_conflicts\":")
        w.bool(merged.hasConflicts)
        w.byte(UInt8(ascii: "}"))
    }

    /// The `fields` column: the JSON array of ``fieldChanges(previous:merged:)``.
    static func encodeFields(previous: RecordState?, merged: RecordState, into w: inout JSONWriter) {
        encodeFields(fieldChanges(previous: previous, merged: merged), into: &w)
    }

    /// The `fields` column holding `changes`.
    static func encodeFields(_ changes: [FieldChange], into w: inout JSONWriter) {
        w.byte(UInt8(ascii: "["))
        for (index, change) in changes.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            change.encode(into: &w)
        }
        w.byte(UInt8(ascii: "]"))
    }

    /// Every displayed value of `state` by field, with `tags` and `deleted`; absent when unset
    /// (no tags, not deleted).
    private static func displayed(_ state: RecordState) -> [String: String] {
        var values: [String: String] = [:]
        for (name, value) in state.displayedFields { values[name] = value }
        let tags = state.tagNames
        if !tags.isEmpty { values["tags"] = tags.joined(separator: ", ") }
        if state.isDeleted { values[RecordState.deletedPseudoField] = "true" }
        return values
    }
}
