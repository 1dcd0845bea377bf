import Testing
@testable import CXClient

@Suite struct CommandShapeTests {
    @Test func rootCommandHasHelp() {
        #expect(CX.helpMessage().contains("cx"))
    }
}
