import CXModel
import CXPostgres
import Testing

@testable import CXServer

/// The SQL write API re-implements a small part of the Model in SQL (migrations 11–12): how a
/// state is displayed, when it is in conflict or deleted, and the value rules. These property
/// tests compare both over many generated states and values, so the two cannot drift apart.
@Suite(.serverDatabase) struct SQLWriteFaithfulnessTests {
    /// SplitMix64: a small seeded generator, so a failure names a reproducible seed.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// States of one record after random concurrent edits, deletes, restores, tag changes and
    /// partial merges on three replicas (equal times and equal values included).
    static func generatedStates(seed: UInt64, count: Int) throws -> [RecordState] {
        var random = Seeded(state: seed)
        var result: [RecordState] = []
        let replicas = ["laptop-a", "laptop-b", "sql:erin"]
        let values: [String?] = ["555-0100", "555-0199", "Berlin", "Zürich", nil, "x"]
        let fields = ["name", "phone", "city", "extra.industry", "territory"]
        while result.count < count {
            let origin = try RecordState.new(kind: .customer, fields: ["name": "Acme"], by: Records.author("hq"))
            var copies = Array(repeating: origin, count: replicas.count)
            for _ in 0..<Int.random(in: 1...12, using: &random) {
                let index = Int.random(in: 0..<replicas.count, using: &random)
                let author = Records.author(replicas[index], minute: Int64.random(in: 0...3, using: &random))
                switch Int.random(in: 0..<10, using: &random) {
                case 0...3:
                    let field = fields.randomElement(using: &random)!
                    let value = field == "name" ? "Acme \(Int.random(in: 0...1, using: &random))" : values.randomElement(using: &random)!
                    try copies[index].set(field, to: value, by: author)
                case 4: try copies[index].addTag(["vip", "north", "b2b"].randomElement(using: &random)!, by: author)
                case 5: copies[index].removeTag(["vip", "north"].randomElement(using: &random)!, by: author)
                case 6: copies[index].delete(by: author)
                case 7: copies[index].restore(by: author)
                default:
                    let other = Int.random(in: 0..<replicas.count, using: &random)
                    copies[index] = copies[index].merging(copies[other])
                }
            }
            result.append(copies.dropFirst().reduce(copies[0]) { $0.merging($1) })
            result.append(copies[Int.random(in: 0..<replicas.count, using: &random)])
        }
        return result
    }

    @Test func theStateFunctionsAgreeWithTheModel() async throws {
        let states = try Self.generatedStates(seed: 20_261_130, count: 400)
        #expect(states.contains { $0.deletionState == .conflicted })
        #expect(states.contains { $0.fields.contains(where: \.isConflicted) })
        try await withTestDatabase { database in
            try await database.sql { connection in
                var differences: [String] = []
                for state in states { differences += try SQLWriting.stateFunctionDifferences(state, on: connection) }
                #expect(differences.isEmpty, "\(differences.prefix(3))")
            }
        }
    }

    /// Values for `field` built from pieces that stress each rule: whitespace of every kind,
    /// decomposed letters, marks next to '@' and '.', signs, places, lengths at the limits.
    static func generatedValues(for field: String, kind: RecordKind, using random: inout Seeded, count: Int) -> [String?] {
        let text = ["a", "Z", "0", "-", "+", ".", "@", " ", "\t", "\n", "\u{3000}", "\u{A0}", "e\u{301}", "\u{301}", "é", "東",
                    "\u{600}", "\u{200D}", "x", "_", "/", "'", "\u{1F}", "example", "mail"]
        let digits = ["0", "1", "9", "12", "-", "+", ".", "5", "00", "10", " ", "0000000000000", "99", "1.", ".5", "-0"]
        let dates = ["2024", "0000", "9999", "-", "02", "29", "30", "13", "00", "1", "31", "2023", "12"]
        let pieces: [String]
        switch field {
        case "on", "due_on", "paid_on": pieces = dates
        case "amount", "margin", "nps": pieces = digits
        case "type": pieces = ["purchase", "referral", "touchpoint", " ", "Purchase"]
        case "channel": pieces = ["visit", "call", "email", "meeting", "other", "Visit", " "]
        case "customer_id", "referred_customer_id", "credits": pieces = ["6f1c1c32", "-", "62d4", "4C4D", "9a8e", "3b8c35f4a001", "g", "0"]
        default: pieces = text
        }
        var values: [String?] = [nil, "", String(repeating: "x", count: 200), String(repeating: "x", count: 201),
                                 String(repeating: "e\u{301}", count: 200), "6F1C1C32-62D4-4C4D-9A8E-3B8C35F4A001",
                                 "name@example.com", " a.b@c.de\u{3000}", "a@b.c\u{301}", String(repeating: "e\u{301}", count: 40) + "@x.de"]
        while values.count < count {
            let length = Int.random(in: 1...7, using: &random)
            values.append((0..<length).map { _ in pieces.randomElement(using: &random)! }.joined())
        }
        return values
    }

    @Test func theValueRulesAgreeWithTheModel() async throws {
        var random = Seeded(state: 7)
        var cases: [(kind: RecordKind, field: String, value: String?)] = []
        let extra = ["extra.industry", "extra.", "extra.a b", "extra." + String(repeating: "k", count: 65), "extra.ü", "colour"]
        for kind in RecordKind.allCases {
            for field in Schema.fields(of: kind).map(\.name) + extra {
                for value in Self.generatedValues(for: field, kind: kind, using: &random, count: 150) {
                    cases.append((kind, field, value))
                }
            }
        }
        var w = JSONWriter()
        w.byte(UInt8(ascii: "["))
        for (index, item) in cases.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.raw("{\"k\":")
            w.string(item.kind.rawValue)
            w.raw(",\"f\":")
            w.string(item.field)
            w.raw(",\"v\":")
            w.optionalString(item.value)
            w.byte(UInt8(ascii: "}"))
        }
        w.byte(UInt8(ascii: "]"))
        let document = String(decoding: w.bytes, as: UTF8.self)
        let outcomes = try await withTestDatabase { database in
            try await database.sql { connection in
                try connection.executeScript(
                    """
                    CREATE FUNCTION pg_temp.try_normalize(k text, f text, v text) RETURNS text LANGUAGE plpgsql AS $$
                    BEGIN
                        RETURN coalesce('ok:' || cx.normalize_field(k, f, v), 'ok-null');
                    EXCEPTION WHEN invalid_parameter_value THEN
                        RETURN 'error:' || SQLERRM;
                    END
                    $$;
                    """)
                return try connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT pg_temp.try_normalize(c.item ->> 'k', c.item ->> 'f', c.item ->> 'v')
                            FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS c(item, n) ORDER BY c.n
                            """,
                        binds: [document])
                ).map { $0[0] ?? "" }
            }
        }
        #expect(outcomes.count == cases.count)
        var differences: [String] = []
        var stricterInSQL = 0
        var accepted = 0
        for (item, sql) in zip(cases, outcomes) {
            if sql.hasPrefix("ok") { accepted += 1 }
            let swift: String
            do {
                swift = try Schema.normalize(item.value, for: item.field, in: item.kind).map { "ok:" + $0 } ?? "ok-null"
            } catch {
                swift = "error:" + error.description
            }
            if swift == sql { continue }
            // The documented subset: SQL refuses some addresses cx accepts, never the reverse.
            if item.field == "email", swift.hasPrefix("ok:"), sql.hasPrefix("error:") {
                stricterInSQL += 1
                continue
            }
            differences.append("\(item.kind.rawValue).\(item.field) \(item.value.debugDescription): Swift \(swift) vs SQL \(sql)")
        }
        #expect(differences.isEmpty, "\(differences.count) of \(cases.count): \(differences.prefix(5))")
        #expect(stricterInSQL < cases.count / 100, "the email subset is small")
        #expect(accepted > cases.count / 5, "the generated values are not all refused (\(accepted) of \(cases.count) accepted)")
    }
}
