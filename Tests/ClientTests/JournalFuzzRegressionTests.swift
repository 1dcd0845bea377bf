import CXModel
import Testing
@testable import CXClient

/// Regressions found by `scripts/fuzz` (FuzzJournal); see docs/reliability.md, "Fuzzing".
@Suite struct JournalFuzzRegressionTests {
    static let a = "0b6f3a52-7c1d-4e8a-9f30-2d5c8e41a7b9"
    static let b = "5d0c1f7e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"

    /// A batch line among a complete batch's lines (a corrupt file) was taken as a batch of its
    /// own; when that inner batch was torn, the writer truncated the file before it, and the
    /// next load found the *outer* batch torn and dropped lines the first load had applied
    /// (here the ack of `a`): truncating a torn tail must not change what the journal says.
    @Test func truncatingATornTailKeepsWhatWasApplied() {
        var bytes = Journal.putLine(
            id: Self.a, kind: .customer, pending: true, conflicted: false, deleted: false, customerID: nil,
            state: Array("{}".utf8), view: nil)
        bytes += Journal.batchLine(count: 2) + Journal.ackLine(id: Self.a) + Journal.batchLine(count: 5)
        bytes += Journal.ackLine(id: Self.b) + Array("{\"op\":\"ack\"".utf8)  // torn last line
        let loaded = Journal(bytes: bytes)
        #expect(loaded.pending[Self.a] == false)
        // What the next writer truncates the file to, loaded again.
        let reloaded = Journal(bytes: Array(bytes[..<loaded.validLength]))
        #expect(reloaded.validLength == loaded.validLength)
        #expect(reloaded.pending[Self.a] == false)
        #expect(reloaded.pending[Self.b] == loaded.pending[Self.b])
    }
}
