import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer

/// The SQL write API (migration 12): every function is one audited write by the SQL user's
/// server replica, stored exactly as a push would store it; bad values raise clear errors;
/// only `cx_editor` may call it, and nobody but the owner writes the tables.
@Suite(.serverDatabase) struct SQLWriteTests {
    @Test func everyFunctionWritesAnAuditedStateTheModelReadsStrictly() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                let customer = try #require(
                    try connection.query(
                        """
                        SELECT cx.add_customer('{"name": "Acme GmbH", "territory": "north", "phone": "555-0100", "extra.industry": "steel"}') AS id
                        """)[0][0])
                try connection.query("SELECT cx.set_field(\(customer)::uuid, 'phone', '555-0199')")
                try connection.query(#"SELECT cx.set_fields(\#(customer)::uuid, '{"city": "Berlin", "notes": null, "email": " info@acme.example "}')"#)
                let purchase = try #require(
                    try connection.query(
                        "SELECT cx.add_activity(jsonb_build_object('customer_id', \(customer)::text, 'type', 'purchase', 'on', '2026-03-01', 'amount', 120.5, 'margin', '0.1200')) AS id"
                    )[0][0])
                let other = try #require(try connection.query(#"SELECT cx.add_customer('{"name": "Gone Ltd"}') AS id"#)[0][0])
                try connection.query("SELECT cx.delete_record(\(other)::uuid)")

                let acme = try SQLWriting.state(customer, on: connection)
                #expect(acme.displayedValue("phone") == "555-0199")
                #expect(acme.displayedValue("email") == "info@acme.example", "trimmed, as the Model stores it")
                #expect(acme.displayedValue("extra.industry") == "steel")
                #expect(acme.register("notes")?.entries.count == 1 && acme.displayedValue("notes") == nil)
                let sale = try SQLWriting.state(purchase, on: connection)
                #expect(sale.displayedValue("amount") == "120.50")
                #expect(sale.displayedValue("margin") == "0.12")
                #expect(try SQLWriting.state(other, on: connection).isDeleted)

                // One replica per SQL user, its counter the largest dot it minted; every dot distinct.
                let writer = try SQLWriting.rows("SELECT role_name, replica_id, counter::text AS counter FROM cx.sql_writers", on: connection)
                #expect(writer.count == 1)
                let replica = try #require(writer.first?["replica_id"] ?? nil)
                let role = try #require(writer.first?["role_name"] ?? nil)
                #expect(replica == "sql:" + role)
                let dots = [acme, sale, try SQLWriting.state(other, on: connection)].flatMap { state in
                    state.fields.flatMap { $0.entries.map(\.dot) } + state.deletion.map(\.dot)
                }
                #expect(Set(dots).count == dots.count)
                #expect(dots.allSatisfy { $0.replica == replica })
                #expect(writer.first?["counter"] == String(dots.map(\.counter).max() ?? 0))
                let registered = try SQLWriting.rows("SELECT user_name FROM cx.replicas WHERE replica_id = \(replica)", on: connection)
                #expect(registered.count == 1)

                // Every call is one audit row with its own sequence number.
                let audit = try SQLWriting.rows(
                    "SELECT operation, replica_id, fields::jsonb::text AS fields, seq::text AS seq FROM cx.changes ORDER BY id", on: connection)
                #expect(audit.map { $0["operation"] ?? nil } == ["insert", "update", "update", "insert", "insert", "update"])
                #expect(audit.allSatisfy { $0["replica_id"] == replica })
                #expect(audit[1]["fields"] == #"[{"to": "555-0199", "from": "555-0100", "field": "phone"}]"#)
                #expect(audit[5]["fields"] == #"[{"to": "true", "from": null, "field": "deleted"}]"#)
                let seqs = audit.compactMap { $0["seq"] ?? nil }.compactMap { Int($0) }
                #expect(Set(seqs).count == seqs.count)

                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
            }
        }
    }

    @Test func badValuesRaiseErrorsNamingTheFieldAndWriteNothing() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                let customer = try #require(try connection.query(#"SELECT cx.add_customer('{"name": "Acme"}') AS id"#)[0][0])
                let cases: [(PostgresQuery, String)] = [
                    ("SELECT cx.set_field(\(customer)::uuid, 'email', 'not-an-email')",
                     "email: 'not-an-email' is not an email address (expected name@example.com)"),
                    ("SELECT cx.set_field(\(customer)::uuid, 'territory', repeat('x', 201))",
                     "territory: is longer than 200 characters (Unicode code points); shorten it or put long text in notes"),
                    ("SELECT cx.set_field(\(customer)::uuid, 'name', NULL)", "name: is required and cannot be unset"),
                    ("SELECT cx.set_field(\(customer)::uuid, 'colour', 'red')",
                     "colour: unknown customer field; use one of name, company, email, phone, address, city, country, territory, owner, segment, notes, reference, or extra.<key>"),
                    (#"SELECT cx.add_customer('{"company": "No Name Ltd"}')"#, "name: a customer needs a name"),
                    ("SELECT cx.add_activity(jsonb_build_object('customer_id', \(customer)::text, 'type', 'purchase', 'amount', '12.345'))",
                     "amount: '12.345' is not an amount (expected a decimal with at most 2 places, e.g. 120.00, or -20.00 on a credit note)"),
                    ("SELECT cx.add_activity(jsonb_build_object('customer_id', \(customer)::text, 'type', 'touchpoint', 'channel', 'visit', 'nps', 11))",
                     "nps: '11' is not a score (expected a whole number 0–10)"),
                    (#"SELECT cx.set_fields(\#(customer)::uuid, '{"tags": ["vip"]}')"#, "tags: expected a string, a number or null, got [\"vip\"]"),
                ]
                for (query, message) in cases {
                    let error = SQLWriting.error { try connection.query(query) }
                    #expect(error?.sqlState == "22023", "\(query.sql)")
                    #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "no error") for \(query.sql)")
                }
                let missing = SQLWriting.error { try connection.query("SELECT cx.set_field(gen_random_uuid(), 'phone', '1')") }
                #expect(missing?.sqlState == "P0002")
                let orphan = SQLWriting.error {
                    try connection.query(#"SELECT cx.add_activity('{"customer_id": "6f1c1c32-62d4-4c4d-9a8e-3b8c35f4a001", "type": "referral", "referred_name": "Bo"}')"#)
                }
                #expect(orphan?.sqlState == "23503")
                let notConflicted = SQLWriting.error { try connection.query("SELECT cx.resolve(\(customer)::uuid, 'name', 'Acme')") }
                #expect(notConflicted?.sqlState == "55000")
                #expect(notConflicted?.message.hasPrefix("name of \(customer) is not in conflict") == true)

                // Nothing of the refused calls was written.
                #expect(try connection.query("SELECT count(*) FROM cx.changes")[0][0] == "1")
                #expect(try connection.query("SELECT count(*) FROM cx.activities")[0][0] == "0")
            }
        }
    }

    @Test func onlyTheEditorRoleWritesAndOnlyThroughTheFunctions() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                let editor = try SQLWriting.makeRole("erin", in: ["cx_analyst", "cx_editor"], on: connection)
                let analyst = try SQLWriting.makeRole("ann", in: ["cx_analyst"], on: connection)
                let customer = try SQLWriting.asRole(editor, on: connection) {
                    try #require(try connection.query(#"SELECT cx.add_customer('{"name": "Acme", "territory": "north"}') AS id"#)[0][0])
                }
                try SQLWriting.asRole(editor, on: connection) {
                    try connection.query("SELECT cx.set_field(\(customer)::uuid, 'phone', '555-0100')")
                    for statement: PostgresQuery in [
                        "UPDATE cx.customers SET phone = '1' WHERE id = \(customer)::uuid",
                        "INSERT INTO cx.customers (id, seq, state) VALUES (gen_random_uuid(), 1, '{}')",
                        "DELETE FROM cx.customers",
                        "UPDATE cx.sql_writers SET counter = 0",
                        "SELECT cx.sql_write(\(customer)::uuid, NULL, '{\"phone\": \"1\"}', 'set')",
                    ] {
                        #expect(SQLWriting.error { try connection.query(statement) }?.sqlState == "42501", "\(statement.sql)")
                    }
                    #expect(try connection.query("SELECT count(*) FROM cx.conflicts")[0][0] == "0")
                }
                try SQLWriting.asRole(analyst, on: connection) {
                    let refused = SQLWriting.error { try connection.query("SELECT cx.set_field(\(customer)::uuid, 'phone', '1')") }
                    #expect(refused?.sqlState == "42501")
                    let phone = try connection.query("SELECT phone FROM cx.customers")[0][0]
                    #expect(phone == "555-0100", "the analyst reads")
                }
                // Attributed to the SQL user: the entry's user, the replica and the audit row.
                let state = try SQLWriting.state(customer, on: connection)
                let entry = try #require(state.register("phone")?.entries.first)
                #expect(entry.user == editor)
                #expect(entry.dot.replica == "sql:" + editor)
                let audit = try SQLWriting.rows("SELECT DISTINCT user_name, replica_id FROM cx.changes", on: connection)
                #expect(audit.count == 1 && audit[0]["user_name"] == editor && audit[0]["replica_id"] == "sql:" + editor)
            }
        }
    }

    @Test func aReplicaIdTakenByALaptopIsNotReused() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                let role = try SQLWriting.makeRole("sam", in: ["cx_editor"], on: connection)
                try connection.query("INSERT INTO cx.replicas (replica_id, user_name) VALUES (\("sql:" + role), 'someone')")
                let customer = try SQLWriting.asRole(role, on: connection) {
                    try #require(try connection.query(#"SELECT cx.add_customer('{"name": "Acme"}') AS id"#)[0][0])
                }
                let replica = try #require(try SQLWriting.state(customer, on: connection).register("name")?.entries.first?.dot.replica)
                #expect(replica.hasPrefix("sql:" + role + "."))
                #expect(replica.utf8.count == ("sql:" + role).utf8.count + 9)
            }
        }
    }

    @Test func sqlWritesTakeThePushSequenceLock() async throws {
        try await withTestDatabase { database in
            let customer = try await database.sql { connection in
                try #require(try connection.query(#"SELECT cx.add_customer('{"name": "Acme"}') AS id"#)[0][0])
            }
            let holder = try PostgresConnection(connectionString: database.connectionString)
            defer { holder.close() }
            try holder.executeScript("BEGIN; SELECT pg_advisory_xact_lock(\(RecordStore.sequenceLockKey))")
            let blocked = try await database.sql { connection in
                try connection.executeScript("SET lock_timeout = '300ms'")
                defer { try? connection.executeScript("RESET lock_timeout") }
                return SQLWriting.error { try connection.query("SELECT cx.set_field(\(customer)::uuid, 'phone', '1')") }
            }
            #expect(blocked?.sqlState == "55P03", "the write waits for a push in progress")
            try holder.executeScript("COMMIT")
            try await database.sql { connection in
                try connection.query("SELECT cx.set_field(\(customer)::uuid, 'phone', '1')")
            }
        }
    }
}
