import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer

/// Duplicate customers in SQL (migration 15): `cx.duplicate_candidates` lists the pairs the
/// Model's `DuplicateFinder` lists on a laptop; `cx.merge_customers` writes what the Model's
/// `DuplicateMerge` writes (gaps filled, conflicts as candidates, tags united, activities moved,
/// a tombstone pointing to the survivor), as audited writes, and refuses bad pairs.
@Suite(.serverDatabase) struct DuplicateCustomersSQLTests {
    /// Every value each field holds, `extra.merged_into` aside.
    static func values(_ state: RecordState) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for register in state.fields where register.name != RecordState.mergedIntoField {
            let values = Set(register.entries.compactMap(\.value))
            if !values.isEmpty { result[register.name] = values }
        }
        return result
    }

    /// A field the duplicate shows as a value in conflict with a clear: the SQL merge keeps the
    /// clear as a candidate beside the value on the survivor, as the Model's merge does (fault
    /// suite, seed 610000: the value alone reached the survivor, the clear stayed on the tombstone).
    @Test func mergeCustomersKeepsAClearInConflictAsACandidate() async throws {
        try await withTestApp { client, database in
            let keep = try RecordState.new(kind: .customer, fields: ["name": "Keep", "territory": "north"], by: Records.author("hq"))
            let base = try RecordState.new(
                kind: .customer, fields: ["name": "Dup", "territory": "north", "email": "old@example.com"], by: Records.author("laptop-b"))
            var setting = base, clearing = base
            try setting.set("email", to: "x@example.com", by: Records.author("laptop-b", minute: 2))
            try clearing.set("email", to: nil, by: Records.author("laptop-c", minute: 3))
            let drop = setting.merging(clearing)
            let pushed = try SyncResponse(
                try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "hq", changes: [keep, drop])).text)
            #expect(pushed.rejected.isEmpty)
            try await database.sql { connection in
                let before = try [keep.id, drop.id].map { try SQLWriting.state($0, on: connection) }
                #expect(Set(try #require(before[1].register("email")).entries.map(\.value)) == ["x@example.com", nil])
                let summary = try #require(try connection.query("SELECT cx.merge_customers(\(keep.id)::uuid, \(drop.id)::uuid)::text")[0][0])
                #expect(summary.contains(#""email""#), "\(summary)")
                let kept = try SQLWriting.state(keep.id, on: connection)
                #expect(Set(try #require(kept.register("email")).entries.map(\.value)) == ["x@example.com", nil], "the clear stands beside the value")
                let model = try DuplicateMerge(keep: before[0], drop: before[1], activities: [], by: Records.author("model", minute: 9))
                #expect(kept.conflicts.map { $0.candidates.map(\.value) } == model.kept.conflicts.map { $0.candidates.map(\.value) })
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
            }
        }
    }

    @Test func mergeCustomersWritesWhatTheModelWritesAndRefusesBadPairs() async throws {
        try await withTestApp { client, database in
            var keeping = try RecordState.new(
                kind: .customer, fields: ["name": "Acme GmbH", "territory": "north", "phone": "555-0100", "city": "Berlin"],
                tags: ["b2b"], by: Records.author("hq"))
            try keeping.set("notes", to: nil, by: Records.author("hq", minute: 1))
            let keep = keeping
            let drop = try RecordState.new(
                kind: .customer,
                fields: ["name": "ACME GmbH", "territory": "north", "phone": "555-0199", "email": "info@acme.example", "notes": "fair",
                         "extra.source": "fair"],
                tags: ["vip", "b2b"], by: Records.author("laptop-b", minute: 2))
            let sale = try Records.purchase(customer: drop.id, replica: "laptop-b")
            var deleting = try Records.purchase(customer: drop.id, amount: "5.00", replica: "laptop-b")
            deleting.delete(by: Records.author("laptop-b", minute: 3))
            let gone = deleting
            let pushed = try SyncResponse(
                try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "hq", changes: [keep, drop, sale, gone])).text)
            #expect(pushed.rejected.isEmpty)

            try await database.sql { connection in
                let before = try [keep.id, drop.id, sale.id, gone.id].map { try SQLWriting.state($0, on: connection) }
                let summary = try #require(try connection.query("SELECT cx.merge_customers(\(keep.id)::uuid, \(drop.id)::uuid)::text")[0][0])
                #expect(summary.contains(#""moved": 1"#) && summary.contains(#""conflicts": ["name", "phone"]"#), "\(summary)")

                let kept = try SQLWriting.state(keep.id, on: connection)
                let dropped = try SQLWriting.state(drop.id, on: connection)
                let moved = try SQLWriting.state(sale.id, on: connection)
                let model = try DuplicateMerge(
                    keep: before[0], drop: before[1], activities: [before[2], before[3]], by: Records.author("model", minute: 9))

                // The same values, candidates, tags, pointer and moves as the Model's merge.
                #expect(Self.values(kept) == Self.values(model.kept))
                #expect(Self.values(kept)["phone"] == ["555-0100", "555-0199"])
                #expect(kept.displayedValue("email") == "info@acme.example" && kept.displayedValue("notes") == "fair")
                #expect(kept.conflicts.map(\.field) == model.kept.conflicts.map(\.field))
                #expect(kept.conflicts.map { $0.candidates.map(\.value) } == model.kept.conflicts.map { $0.candidates.map(\.value) })
                #expect(kept.tagNames == ["b2b", "vip"] && kept.tagNames == model.kept.tagNames)
                #expect(dropped.isDeleted && dropped.mergedInto == keep.id && model.dropped.mergedInto == keep.id)
                #expect(moved.displayedValue("customer_id") == keep.id && model.moved.map(\.id) == [sale.id])
                #expect(try SQLWriting.state(gone.id, on: connection).displayedValue("customer_id") == drop.id, "a deleted activity stays")

                // Typed columns: the survivor flags its conflicts; the tombstone shows its pointer.
                let row = try SQLWriting.rows(
                    "SELECT deleted, extra ->> 'merged_into' AS merged_into FROM cx.customers WHERE id = \(drop.id)::uuid", on: connection)[0]
                #expect(row["deleted"] == "t" && row["merged_into"] == keep.id)
                #expect(try connection.query("SELECT has_conflicts FROM cx.customers WHERE id = \(keep.id)::uuid")[0][0] == "t")
                #expect(try connection.query("SELECT customer_id::text FROM cx.activities WHERE id = \(sale.id)::uuid")[0][0] == keep.id)
                // One audited write per step, every dot distinct, rows as a push writes them.
                let audit = try connection.query("SELECT count(*) FROM cx.changes WHERE replica_id LIKE 'sql:%'")[0][0]
                #expect(audit == "4", "absorb, pointer, delete, one activity")
                let dots = [kept, dropped, moved].flatMap { state in
                    state.fields.flatMap { $0.entries.map(\.dot) } + state.tags.flatMap(\.dots) + state.deletion.map(\.dot)
                }.filter { $0.replica.hasPrefix("sql:") }
                #expect(Set(dots).count == dots.count)
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])

                // Refusals: the same record, unknown ids, an already merged record.
                let cases: [(PostgresQuery, String, String)] = [
                    ("SELECT cx.merge_customers(\(keep.id)::uuid, \(keep.id)::uuid)", "22023", "cannot merge customer \(keep.id) into itself"),
                    ("SELECT cx.merge_customers(\(keep.id)::uuid, gen_random_uuid())", "P0002", "no customer "),
                    ("SELECT cx.merge_customers(\(keep.id)::uuid, \(sale.id)::uuid)", "P0002", "no customer \(sale.id)"),
                    ("SELECT cx.merge_customers(\(keep.id)::uuid, \(drop.id)::uuid)", "55000", "customer \(drop.id) was already merged into \(keep.id)"),
                    ("SELECT cx.merge_customers(\(drop.id)::uuid, \(keep.id)::uuid)", "55000", "customer \(drop.id) was merged into \(keep.id)"),
                ]
                for (query, state, message) in cases {
                    let error = SQLWriting.error { try connection.query(query) }
                    #expect(error?.sqlState?.rawValue == state, "\(query.sql): \(error?.message ?? "no error")")
                    #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "no error")")
                }
                #expect(try connection.query("SELECT count(*) FROM cx.changes WHERE replica_id LIKE 'sql:%'")[0][0] == "4")
            }

            // Laptops read the merged states with the strict decoder (an extra field, nothing new).
            let pulled = try SyncResponse(
                try await client.sync(token: database.adminToken, body: Records.syncBody(replica: "hq", cursor: pushed.cursor, changes: [])).text)
            #expect(pulled.changes.contains { $0.id == drop.id && $0.mergedInto == keep.id })
        }
    }

    @Test func onlyTheEditorMergesAndAnalystsReadTheCandidates() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                let a = try #require(try connection.query(#"SELECT cx.add_customer('{"name": "Acme", "email": "a@x.example"}') AS id"#)[0][0])
                let b = try #require(try connection.query(#"SELECT cx.add_customer('{"name": "Acme", "email": "A@X.example"}') AS id"#)[0][0])
                let analyst = try SQLWriting.makeRole("ann", in: ["cx_analyst"], on: connection)
                let editor = try SQLWriting.makeRole("erin", in: ["cx_editor"], on: connection)
                try SQLWriting.asRole(analyst, on: connection) { () throws -> Void in
                    #expect(try connection.query("SELECT count(*) FROM cx.duplicate_candidates")[0][0] == "1")
                    let refused = SQLWriting.error { try connection.query("SELECT cx.merge_customers(\(a)::uuid, \(b)::uuid)") }
                    #expect(refused?.sqlState == "42501")
                }
                try SQLWriting.asRole(editor, on: connection) { () throws -> Void in
                    #expect(try connection.query("SELECT count(*) FROM cx.duplicate_candidates")[0][0] == "1")
                    try connection.query("SELECT cx.merge_customers(\(a)::uuid, \(b)::uuid)")
                    #expect(try connection.query("SELECT count(*) FROM cx.duplicate_candidates")[0][0] == "0", "deleted records are left out")
                }
            }
        }
    }

    @Test func theViewListsThePairsTheLaptopFinds() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                let book: [[String: String]] = [
                    ["name": "John Smith", "email": "J.Smith@Example.com", "phone": "+49 30 1234567", "city": "Berlin"],
                    ["name": "Jon Smith", "email": "j.smith@example.com", "phone": "030 1234567", "city": " berlin "],
                    ["name": "Jon Smith", "phone": "555-12", "city": "Hamburg"],
                    ["name": "Acme-Werke GmbH", "phone": "555-12", "city": "New  York"],
                    ["name": "ACME Werke", "city": "new york"],
                    ["name": "Acme Works Inc.", "city": "NEW YORK"],
                    ["name": "Müller & Söhne", "city": "Köln", "phone": "(0221) 555 0101"],
                    ["name": "Mueller und Soehne", "city": "Köln", "phone": "+49 221 5550101"],
                    ["name": "Café Zürich", "city": "Zürich"],
                    ["name": "Cafe Zurich", "city": "Zürich", "email": "cafe@zurich.example"],
                    ["name": "Gone Ltd", "email": "cafe@zurich.example"],
                ]
                var ids: [String] = []
                for fields in book {
                    let text = String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self)
                    ids.append(try #require(try connection.query("SELECT cx.add_customer(\(text)::jsonb) AS id")[0][0]))
                }
                try connection.query("SELECT cx.delete_record(\(ids[10])::uuid)")
                // The laptop's list from the same records.
                var candidates: [DuplicateFinder.Candidate] = []
                for id in ids {
                    if let candidate = DuplicateFinder.Candidate(try SQLWriting.state(id, on: connection)) { candidates.append(candidate) }
                }
                let laptop = DuplicateFinder.pairs(candidates).map { pair in
                    [pair.first.id, pair.second.id, pair.reasons.map(\.rawValue).joined(separator: ","), pair.similarityText ?? "-"]
                }
                let server = try connection.query(
                    """
                    SELECT customer_id::text, duplicate_id::text, array_to_string(reasons, ','), coalesce(name_similarity::text, '-')
                    FROM cx.duplicate_candidates
                    """
                ).map { row in (0..<4).map { row[$0] ?? "" } }
                #expect(server == laptop)
                #expect(Set(laptop.map { $0[2] }) == ["name", "email,phone,name", "phone"], "\(laptop)")

                // The measure is pg_trgm's for ASCII names, where the extension is installed.
                if (try? connection.executeScript("CREATE EXTENSION IF NOT EXISTS pg_trgm")) != nil {
                    let names = ["John Smith", "Jon Smith", "Acme-Werke GmbH", "ACME Werke", "Acme Works Inc.", "a", "x-1 y2", "Smith, J."]
                    for a in names {
                        for b in names {
                            let row = try connection.query(
                                "SELECT round(similarity(\(a), \(b))::numeric, 3)::text, cx.duplicate_name_similarity(\(a), \(b))::text")[0]
                            #expect(row[0] == row[1], "\(a) / \(b)")
                            #expect(row[1] == DuplicateFinder.similarityText(DuplicateFinder.similarity(a, b).thousandths), "\(a) / \(b)")
                        }
                    }
                }
            }
        }
    }
}
