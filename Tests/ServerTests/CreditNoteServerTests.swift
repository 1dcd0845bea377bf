import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer

/// Credit notes and zero-value orders on the server (migration 14): the sync push and the SQL
/// write API hold them to the Model's rules (a negative amount only on a purchase with
/// `credits`), refusing per record or with an error naming the field; the typed column
/// `credits` and the view `cx.purchases` carry them.
@Suite(.serverDatabase) struct CreditNoteServerTests {
    static func creditNote(customer: String, credits: String, amount: String = "-20.00", id: String = RecordID.random()) throws -> RecordState {
        try RecordState.new(
            kind: .activity, id: id,
            fields: ["customer_id": customer, "type": "purchase", "on": "2026-03-10", "amount": amount, "credits": credits],
            by: Records.author("laptop-a", minute: 2))
    }

    @Test func aPushedNegativeAmountWithoutCreditsIsRefusedAndTheOthersAreWritten() async throws {
        try await withTestApp { client, database in
            let customer = try Records.customer("Acme")
            let purchase = try Records.purchase(customer: customer.id)
            let note = try Self.creditNote(customer: customer.id, credits: purchase.id)
            let zero = try Records.purchase(customer: customer.id, amount: "0.00")
            // A laptop without the rule (or a hand-made state): a negative amount, no `credits`.
            var refund = try Records.purchase(customer: customer.id)
            try refund.set("amount", to: "-5.00", by: Records.author("laptop-a", minute: 3))
            #expect(throws: RecordValidationError.self) { try refund.validateComplete() }

            let response = try await client.sync(
                token: database.adminToken, body: Records.syncBody(changes: [customer, purchase, note, zero, refund]))
            #expect(response.status == .ok, "\(response.text)")
            let reply = try SyncResponse(response.text)
            #expect(reply.rejected.map(\.code) == ["invalid_record"], "\(response.text)")
            #expect(reply.rejected.first?.id == refund.id)
            #expect(response.text.contains("amount: '-5.00' is negative: only a credit note has a negative amount"), "\(response.text)")

            try await database.sql { connection in
                let rows = try SQLWriting.rows(
                    """
                    SELECT id::text AS id, amount::text AS amount, credits::text AS credits, due_on::text AS due_on
                    FROM cx.purchases ORDER BY amount
                    """, on: connection)
                #expect(rows.count == 3)
                #expect(rows[0]["id"] == note.id && rows[0]["amount"] == "-20.00" && rows[0]["credits"] == purchase.id)
                #expect(rows[0]["due_on"] == .some(nil), "a credit note has no due date of its own")
                #expect(rows[1]["id"] == zero.id && rows[1]["amount"] == "0.00" && rows[1]["credits"] == .some(nil))
                #expect(rows[2]["amount"] == "120.00")
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
            }

            // A later edit that unsets `credits` of the stored credit note is refused as well.
            var broken = note
            try broken.set("credits", to: nil, by: Records.author("laptop-a", minute: 4))
            let second = try await client.sync(token: database.adminToken, body: Records.syncBody(changes: [broken]))
            #expect(try SyncResponse(second.text).rejected.map(\.code) == ["invalid_record"], "\(second.text)")
        }
    }

    @Test func sqlWritesFollowTheSameRulesAndNameTheField() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                let customer = try #require(try connection.query(#"SELECT cx.add_customer('{"name": "Acme"}') AS id"#)[0][0])
                let purchase = try #require(
                    try connection.query(
                        "SELECT cx.add_activity(jsonb_build_object('customer_id', \(customer)::text, 'type', 'purchase', 'on', '2026-03-01', 'amount', '120.00')) AS id"
                    )[0][0])
                let touchpoint = try #require(
                    try connection.query(
                        "SELECT cx.add_activity(jsonb_build_object('customer_id', \(customer)::text, 'type', 'touchpoint', 'channel', 'call')) AS id"
                    )[0][0])
                let cases: [(PostgresQuery, String)] = [
                    ("SELECT cx.add_activity(jsonb_build_object('customer_id', \(customer)::text, 'type', 'purchase', 'amount', '-20.00'))",
                     "amount: '-20.00' is negative: only a credit note has a negative amount; set credits to the purchase it corrects"),
                    ("SELECT cx.add_activity(jsonb_build_object('customer_id', \(customer)::text, 'type', 'purchase', 'amount', 20, 'credits', \(purchase)::text))",
                     "amount: '20.00' is not a credit note's amount: a purchase that credits another has a negative amount, e.g. -20.00"),
                    ("SELECT cx.set_field(\(purchase)::uuid, 'amount', '-1')",
                     "amount: '-1.00' is negative: only a credit note has a negative amount"),
                    ("SELECT cx.set_field(\(touchpoint)::uuid, 'credits', \(purchase)::text)",
                     "credits: only a purchase can credit a purchase (a credit note)"),
                    ("SELECT cx.set_field(\(purchase)::uuid, 'credits', \(purchase)::text)",
                     "credits: a credit note cannot credit itself"),
                    ("SELECT cx.set_field(\(customer)::uuid, 'credits', \(purchase)::text)",
                     "credits: unknown customer field"),
                ]
                for (query, message) in cases {
                    let error = SQLWriting.error { try connection.query(query) }
                    #expect(error?.sqlState == "22023", "\(query.sql)")
                    #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "no error") for \(query.sql)")
                }

                let note = try #require(
                    try connection.query(
                        "SELECT cx.add_activity(jsonb_build_object('customer_id', \(customer)::text, 'type', 'purchase', 'on', '2026-03-10', 'amount', -20, 'credits', \(purchase)::text)) AS id"
                    )[0][0])
                let zero = try #require(
                    try connection.query(
                        "SELECT cx.add_activity(jsonb_build_object('customer_id', \(customer)::text, 'type', 'purchase', 'amount', '0')) AS id"
                    )[0][0])
                // Unsetting `credits` of a credit note would leave a negative amount without it.
                let unset = SQLWriting.error { try connection.query("SELECT cx.set_field(\(note)::uuid, 'credits', NULL)") }
                #expect(unset?.message.hasPrefix("amount: '-20.00' is negative") == true, "\(unset?.message ?? "no error")")
                // One write may change both: the zero-value order becomes a credit note.
                try connection.query("SELECT cx.set_fields(\(zero)::uuid, jsonb_build_object('amount', '-3.00', 'credits', \(purchase)::text))")

                let stored = try SQLWriting.state(note, on: connection)
                #expect(stored.displayedValue("amount") == "-20.00" && stored.displayedValue("credits") == purchase)
                let rows = try SQLWriting.rows(
                    "SELECT id::text AS id, credits::text AS credits FROM cx.activities WHERE credits IS NOT NULL ORDER BY id", on: connection)
                #expect(Set(rows.map { $0["id"] ?? nil }) == [note, zero])
                #expect(rows.allSatisfy { $0["credits"] == purchase })
                // The audit row names the new field, in the Model's field order.
                let audit = try #require(
                    try connection.query(
                        "SELECT fields::jsonb::text FROM cx.changes WHERE record_id = \(note)::uuid AND operation = 'insert'")[0][0])
                #expect(audit.hasSuffix(#"{"to": "\#(purchase)", "from": null, "field": "credits"}]"#), "\(audit)")
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
            }
        }
    }

    @Test func theMigrationFillsTheColumnFromStoredStates() async throws {
        let before = Migration.all.filter { $0.version < 14 }
        try await withTestDatabase(migrations: before) { database in
            let customer = RecordID.random(), note = RecordID.random(), purchase = RecordID.random()
            let withID = try Self.creditNote(customer: customer, credits: purchase, id: note)
            try await database.sql { connection in
                // Written as the owner, as a server of this version could not: only the state holds `credits`.
                try connection.query(
                    "INSERT INTO cx.activities (id, customer_id, type, \"on\", amount, seq, state) VALUES (\(note)::uuid, \(customer)::uuid, 'purchase', '2026-03-10', -20, nextval('cx.change_seq'), \(withID.jsonString(.expanded))::jsonb)")
                let applied = try clusterMigrationLock.withLock { try Migrator(logger: TestDatabase.logger).migrate(connection) }
                #expect(applied == Migration.all.map(\.version).filter { $0 >= 14 }, "14 and every later migration")
                #expect(try connection.query("SELECT credits::text FROM cx.activities WHERE id = \(note)::uuid")[0][0] == purchase)
            }
        }
    }
}
