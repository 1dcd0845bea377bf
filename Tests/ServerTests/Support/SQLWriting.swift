import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer

/// Helpers for the SQL write API tests (`cx.set_field` and friends, migration 12).
enum SQLWriting {
    /// Runs `sql` (one statement, parameters bound) and returns its rows as `[column: text]`.
    static func rows(_ sql: PostgresQuery, on connection: PostgresConnection) throws -> [[String: String?]] {
        try connection.query(sql).map { row in
            Dictionary(uniqueKeysWithValues: row.columns.enumerated().map { ($1, row[$0]) })
        }
    }

    /// The error `body` throws, or `nil` when it succeeds.
    static func error(_ body: () throws -> Void) -> PostgresError? {
        do {
            try body()
            return nil
        } catch let error as PostgresError {
            return error
        } catch {
            return PostgresError(.queryFailed, "\(error)")
        }
    }

    /// Creates a login role that is a member of `roles` (`cx_editor`, `cx_analyst`), with a
    /// random suffix: roles are cluster-wide and tests run in parallel.
    static func makeRole(_ prefix: String, in roles: [String], on connection: PostgresConnection) throws -> String {
        let name = prefix + "_" + UUID().uuidString.prefix(8).lowercased()
        // The name is built above from a literal and hex digits; role names cannot be bound.
        try connection.executeScript("CREATE ROLE \(name) LOGIN IN ROLE \(roles.joined(separator: ", "))")
        return name
    }

    /// Runs `body` with the session authorisation of `role` (as if `role` had logged in), and
    /// switches back afterwards.
    static func asRole<T>(_ role: String, on connection: PostgresConnection, _ body: () throws -> T) throws -> T {
        try connection.executeScript("SET SESSION AUTHORIZATION \(role)")
        defer { try? connection.executeScript("RESET SESSION AUTHORIZATION") }
        return try body()
    }

    /// The stored state of `id`, decoded with today's strict rules.
    static func state(_ id: String, on connection: PostgresConnection) throws -> RecordState {
        let rows = try connection.query(
            """
            SELECT state::text AS state FROM cx.customers WHERE id = \(id)::uuid
            UNION ALL SELECT state::text FROM cx.activities WHERE id = \(id)::uuid
            """)
        let text = try #require(rows.first?[0], "no record \(id)")
        return try RecordState(jsonString: text, values: .current)
    }

    /// Problems with every stored row: a state the Model's strict decoder refuses, or typed
    /// columns, flags and state that differ from what ``RecordRowEncoder`` writes for that state
    /// (the row a push would have written).
    static func faithfulnessProblems(on connection: PostgresConnection) throws -> [String] {
        var problems: [String] = []
        for kind in RecordKind.allCases {
            let table = RecordStore.table(of: kind)
            let rows = try connection.query(PostgresQuery(unsafeSQL: "SELECT id::text AS id, state::text AS state FROM \(table) ORDER BY id"))
            for row in rows {
                let id = row[0] ?? "?"
                let state: RecordState
                do {
                    state = try RecordState(jsonString: row[1] ?? "", values: .current)
                } catch {
                    problems.append("\(table) \(id): the strict decoder refuses the state: \(error)")
                    continue
                }
                let fields = Schema.fields(of: kind)
                let definitions = fields.map { "\"\($0.name)\" \(RecordRowEncoder.sqlType($0.type))" }.joined(separator: ", ")
                // Both rows as jsonb, without what only the server sets (seq, times): jsonb
                // compares numbers by value, so 0.12 and 0.1200 are equal, as in the column.
                let same = try connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT (SELECT to_jsonb(e) FROM jsonb_to_recordset($1::jsonb)
                                        AS e(id uuid, \(definitions), tags text[], extra jsonb, has_conflicts boolean, deleted boolean, state jsonb))
                                   = (SELECT to_jsonb(t) - ARRAY['seq', 'created_at', 'updated_at'] FROM \(table) AS t WHERE t.id = $2::uuid)
                                   AS same,
                                   (SELECT to_jsonb(t) - 'state' FROM \(table) AS t WHERE t.id = $2::uuid)::text AS stored,
                                   $1 AS expected
                            """,
                        binds: [RecordRowEncoder.rows([state]), id]))
                if same.first?[0] != "t" {
                    problems.append("\(table) \(id): the row differs from RecordRowEncoder's: stored \(same.first?[1] ?? "nil"), expected \(same.first?[2] ?? "nil")")
                }
            }
        }
        return problems
    }
}

extension SQLWriting {
    /// What the Model says of `state`, in the shapes the SQL functions return: displayed values
    /// (`cx.state_displayed`), deletion state (`cx.state_deletion`), conflicts
    /// (`cx.state_conflicts`, as `[{"field", "candidates": [{"value", "user", "replica", "at"}]}]`).
    static func modelView(of state: RecordState) -> (displayed: String, deletion: String, hasConflicts: Bool, conflicts: String) {
        var w = JSONWriter()
        w.byte(UInt8(ascii: "{"))
        for (index, field) in state.displayedFields.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(field.name)
            w.byte(UInt8(ascii: ":"))
            w.string(field.value)
        }
        w.byte(UInt8(ascii: "}"))
        let displayed = String(decoding: w.bytes, as: UTF8.self)
        var c = JSONWriter()
        c.byte(UInt8(ascii: "["))
        for (index, conflict) in state.conflicts.enumerated() {
            if index > 0 { c.byte(UInt8(ascii: ",")) }
            c.raw("{\"field\":")
            c.string(conflict.field)
            c.raw(",\"candidates\":[")
            for (candidateIndex, candidate) in conflict.candidates.enumerated() {
                if candidateIndex > 0 { c.byte(UInt8(ascii: ",")) }
                c.raw("{\"value\":")
                c.optionalString(candidate.value)
                c.raw(",\"user\":")
                c.optionalString(candidate.user)
                c.raw(",\"replica\":")
                c.string(candidate.replica)
                c.raw(",\"at\":")
                c.timestamp(candidate.at)
                c.byte(UInt8(ascii: "}"))
            }
            c.raw("]}")
        }
        c.byte(UInt8(ascii: "]"))
        return (displayed, state.deletionState.rawValue, state.hasConflicts, String(decoding: c.bytes, as: UTF8.self))
    }

    /// Differences between the SQL state functions and the Model on `state`, given to SQL in
    /// `format` (empty: none).
    static func stateFunctionDifferences(
        _ state: RecordState, format: StateFormat = .compact, on connection: PostgresConnection
    ) throws -> [String] {
        let model = modelView(of: state)
        let rows = try connection.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT cx.state_displayed($1::jsonb) = $2::jsonb AS displayed, cx.state_displayed($1::jsonb)::text AS displayed_text,
                           cx.state_deletion($1::jsonb) AS deletion, cx.state_has_conflicts($1::jsonb) AS has_conflicts,
                           (SELECT coalesce(jsonb_agg(jsonb_build_object('field', c.field, 'candidates', c.candidates) ORDER BY c.n), '[]')
                            FROM cx.state_conflicts($1::jsonb) WITH ORDINALITY AS c(field, candidates, n)) = $3::jsonb AS conflicts,
                           (SELECT coalesce(jsonb_agg(jsonb_build_object('field', c.field, 'candidates', c.candidates) ORDER BY c.n), '[]')
                            FROM cx.state_conflicts($1::jsonb) WITH ORDINALITY AS c(field, candidates, n))::text AS conflicts_text
                    """,
                binds: [state.jsonString(format), model.displayed, model.conflicts]))
        let row = rows[0]
        var differences: [String] = []
        if row["displayed"] != "t" { differences.append("displayed: SQL \(row["displayed_text"] ?? "nil") vs Model \(model.displayed)") }
        if row["deletion"] != model.deletion { differences.append("deletion: SQL \(row["deletion"] ?? "nil") vs Model \(model.deletion)") }
        if row["has_conflicts"] != (model.hasConflicts ? "t" : "f") {
            differences.append("has_conflicts: SQL \(row["has_conflicts"] ?? "nil") vs Model \(model.hasConflicts)")
        }
        if row["conflicts"] != "t" { differences.append("conflicts: SQL \(row["conflicts_text"] ?? "nil") vs Model \(model.conflicts)") }
        return differences.map { "\(state.id): \($0) in \(state.jsonString())" }
    }
}
