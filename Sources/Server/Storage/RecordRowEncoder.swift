import CXModel

/// Turns merged record states into the rows of `cx.customers` / `cx.activities`: the displayed
/// value of every field in its typed column, the flags, and the full state.
///
/// Rows are written as one JSON array bound as a single parameter and expanded in SQL with
/// `jsonb_to_recordset`, so a batch of a thousand records is one parameterised statement.
enum RecordRowEncoder {
    /// The typed columns of `kind`, in table order (after `id`).
    static func columns(of kind: RecordKind) -> [String] {
        Schema.fields(of: kind).map(\.name)
    }

    /// Typed columns PostgreSQL computes from the state (migration 13): written by every
    /// writer alike, never in an upsert's column list.
    static func isGenerated(_ column: String, of kind: RecordKind) -> Bool {
        kind == .customer && column == "reference"
    }

    /// The values of a record's typed columns in ``Schema/fields(of:)`` order (`nil`: unset),
    /// and its `extra.*` fields (without the prefix) for the `extra` column, from `displayed`,
    /// the record's ``RecordState/displayedFields`` (the audit row reads them too).
    static func columnValues(_ displayed: [(name: String, value: String)], of kind: RecordKind) -> (values: [String?], extra: [(String, String)]) {
        var extra: [(String, String)] = []
        var values = [String?](repeating: nil, count: Schema.fields(of: kind).count)
        for (name, value) in displayed {
            if let position = Schema.position(of: name, in: kind) {
                values[position] = value
            } else if name.utf8.starts(with: Schema.extraPrefix.utf8) {
                extra.append((String(name.dropFirst(Schema.extraPrefix.count)), value))
            }
        }
        return (values, extra)
    }

    /// The `extra` column's JSON object.
    static func encodeExtra(_ extra: [(String, String)], into w: inout JSONWriter) {
        w.byte(UInt8(ascii: "{"))
        for (extraIndex, (key, value)) in extra.enumerated() {
            if extraIndex > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(key)
            w.byte(UInt8(ascii: ":"))
            w.string(value)
        }
        w.byte(UInt8(ascii: "}"))
    }

    /// A JSON array of row objects for `states`, all of one kind.
    static func rows(_ states: [RecordState]) -> String {
        var w = JSONWriter(capacity: states.count * 2500)
        w.byte(UInt8(ascii: "["))
        for (index, state) in states.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.raw("{\"id\":")
            w.string(state.id)
            let (values, extra) = columnValues(state.displayedFields, of: state.kind)
            for (position, column) in columns(of: state.kind).enumerated() {
                w.byte(UInt8(ascii: ","))
                w.string(column)
                w.byte(UInt8(ascii: ":"))
                w.optionalString(values[position])
            }
            w.raw(",\"tags\":[")
            for (tagIndex, tag) in state.tagNames.enumerated() {
                if tagIndex > 0 { w.byte(UInt8(ascii: ",")) }
                w.string(tag)
            }
            w.raw("],\"extra\":")
            encodeExtra(extra, into: &w)
            w.raw(",\"has_conflicts\":")
            w.bool(state.hasConflicts)
            w.raw(",\"deleted\":")
            w.bool(state.isDeleted)
            w.raw(",\"state\":")
            state.encode(into: &w)
            w.byte(UInt8(ascii: "}"))
        }
        w.byte(UInt8(ascii: "]"))
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// The SQL type of each typed column in the recordset definition.
    static func sqlType(_ type: FieldType) -> String {
        switch type {
        case .recordID: "uuid"
        case .date: "date"
        case .amount: "numeric"
        case .fraction: "numeric"
        case .score: "smallint"
        default: "text"
        }
    }

    /// `INSERT … SELECT … FROM jsonb_to_recordset($1) … ON CONFLICT (id) DO UPDATE`, with a new
    /// change sequence number for every row written. Table and column names come from the
    /// schema (program constants), never from input; the data is the bound parameter.
    static func upsertSQL(for kind: RecordKind) -> String {
        let table = kind == .customer ? "cx.customers" : "cx.activities"
        let fields = Schema.fields(of: kind).filter { !isGenerated($0.name, of: kind) }
        let quoted = fields.map { "\"\($0.name)\"" }
        let definitions = zip(quoted, fields).map { "\($0) \(sqlType($1.type))" }.joined(separator: ", ")
        let columnList = (["id"] + quoted + ["tags", "extra", "has_conflicts", "deleted", "seq", "state"]).joined(separator: ", ")
        let selectList = (["r.id"] + quoted.map { "r.\($0)" } + ["r.tags", "r.extra", "r.has_conflicts", "r.deleted", "nextval('cx.change_seq')", "r.state"]).joined(separator: ", ")
        let updates = (quoted + ["tags", "extra", "has_conflicts", "deleted", "seq", "state"]).map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return """
            INSERT INTO \(table) (\(columnList))
            SELECT \(selectList)
            FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, \(definitions), tags text[], extra jsonb, has_conflicts boolean, deleted boolean, state jsonb)
            ON CONFLICT (id) DO UPDATE SET \(updates), updated_at = now()
            """
    }
}
