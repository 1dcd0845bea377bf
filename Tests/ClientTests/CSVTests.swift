import CXModel
import Testing
@testable import CXClient

@Suite struct CSVTests {
    @Test func readsBOMQuotesAndEmbeddedNewlines() {
        let csv = "\u{FEFF}name,email,tags,extra.source,notes\n"
            + "Acme,buyer@acme.example,b2b;vip,fair,\"line one\nline two\"\n"
            + "\"Bistro, Lyon\",,restaurant,,\"said \"\"hi\"\"\"\n"
        let (rows, problems) = CustomerCSV.parse(Array(csv.utf8))
        #expect(problems.isEmpty)
        #expect(rows.count == 2)
        #expect(rows[0].line == 2)
        #expect(rows[0].tags == ["b2b", "vip"])
        #expect(rows[0].fields["notes"] == "line one\nline two")
        #expect(rows[0].fields["extra.source"] == "fair")
        #expect(rows[1].line == 4)
        #expect(rows[1].fields["name"] == "Bistro, Lyon")
        #expect(rows[1].fields["notes"] == "said \"hi\"")
        #expect(rows[1].fields["email"] == nil)
    }

    @Test func reportsEveryBadRowByLineNumber() {
        let csv = "name,email\n"
            + "Good,good@example.com\n"
            + "\"Multi\nline\",bad-email\n"
            + ",nobody@example.com\n"
            + "Too,many,fields\n"
            + "Fine,\n"
        let (_, problems) = CustomerCSV.parse(Array(csv.utf8))
        #expect(problems.map(\.line) == [3, 5, 6])
        #expect(problems[0].message.contains("email"))
        #expect(problems[1].message.contains("name"))
        #expect(problems[2].message.contains("expected 2 fields, found 3"))
    }

    @Test func rejectsUnknownAndDuplicateColumns() {
        let (_, problems) = CustomerCSV.parse(Array("name,emial,name\nA,b,c\n".utf8))
        #expect(problems.count == 2)
        #expect(problems.allSatisfy { $0.line == 1 })
        let (_, missing) = CustomerCSV.parse(Array("email\na@b.example\n".utf8))
        #expect(missing.first?.message.contains("'name'") == true)
    }

    @Test func exportImportsBack() throws {
        var state = Fixtures.customer("Acme, \"Quoted\"")
        try state.set("notes", to: "two\nlines", by: Fixtures.author)
        try state.set("extra.size", to: "120", by: Fixtures.author)
        let other = Fixtures.customer("Bistro")
        let views = [RecordView(state), RecordView(other)]
        let csv = try CustomerCSV.export(views)
        let (rows, problems) = CustomerCSV.parse(csv)
        #expect(problems.isEmpty)
        #expect(rows.count == 2)
        #expect(rows[0].id == state.id)
        #expect(rows[0].fields["name"] == "Acme, \"Quoted\"")
        #expect(rows[0].fields["notes"] == "two\nlines")
        #expect(rows[0].fields["extra.size"] == "120")
        #expect(rows[0].tags == ["b2b"])
        #expect(rows[1].fields["extra.size"] == nil)
    }
}
