import Testing
@testable import CXClient

/// Unknown commands and options are named first, with the nearest valid word.
@Suite struct ArgumentTyposTests {
    @Test func anUnknownCommandSuggestsTheNearest() throws {
        let error = try #require(ArgumentTypos.find(in: ["lst", "--home", "/tmp/x"], root: CX.self))
        #expect(error.code == .usage)
        #expect(error.message == "unknown command 'lst'; did you mean 'list'?")
        #expect(ArgumentTypos.find(in: ["snyc"], root: CX.self)?.message == "unknown command 'snyc'; did you mean 'sync'?")
        #expect(ArgumentTypos.find(in: ["purchse", "3f2a9c"], root: CX.self)?.message.contains("'purchase'") == true)
        #expect(ArgumentTypos.find(in: ["frobnicate"], root: CX.self)?.message == "unknown command 'frobnicate'")
    }

    @Test func anUnknownOptionIsReportedBeforeAMissingOne() throws {
        let error = try #require(ArgumentTypos.find(in: ["add", "--nme", "Foo"], root: CX.self))
        #expect(error.message == "unknown option '--nme' for `cx add`; did you mean '--name'?")
        #expect(ArgumentTypos.find(in: ["purchase", "3f2a9c", "--amount", "10", "--margn=0.1"], root: CX.self)?.message
            .contains("'--margin'") == true)
    }

    @Test func validCommandLinesHaveNoTypo() {
        #expect(ArgumentTypos.find(in: ["add", "--name", "Foo", "--home", "/tmp/x"], root: CX.self) == nil)
        // Values that look like options are values of the option before them.
        #expect(ArgumentTypos.find(in: ["edit", "3f2a9c", "--tag", "-vip", "--notes", "--not-an-option"], root: CX.self) == nil)
        #expect(ArgumentTypos.find(in: ["sync", "--retry-for", "30", "--json"], root: CX.self) == nil)
        #expect(ArgumentTypos.find(in: ["--version"], root: CX.self) == nil)
    }

    @Test func distanceCountsTranspositionsAsOne() {
        #expect(ArgumentTypos.distance("lsit", "list") == 1)
        #expect(ArgumentTypos.distance("lst", "list") == 1)
        #expect(ArgumentTypos.nearest("xyz", among: ["list", "sync"]) == nil)
    }
}
