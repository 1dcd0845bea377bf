import CXModel

/// Exists for fuzzing (`Sources/Fuzz/FuzzJournal`, `scripts/fuzz`) and for replaying its corpus:
/// the journal loader is internal, so this is its one package-visible door.
package enum JournalFuzzing {
    /// Loads `bytes` as a `journal.jsonl` file the way ``CacheStore`` does and checks the
    /// loader's promises, trapping when one is broken:
    /// * the applied prefix is within the file, and every `put`'s state and view slices are in it;
    /// * reloading just the applied prefix (what the next writer truncates the file to) gives
    ///   the same journal, so a torn tail is all that truncation removes;
    /// * appending to a loaded journal (``Journal/appendWritten(_:)``, after the writer's
    ///   truncation) gives what loading the whole file gives.
    /// Each `put`'s state is also decoded, as readers do.
    package static func check(_ bytes: [UInt8]) {
        let journal = Journal(bytes: bytes)
        precondition(journal.validLength >= 0 && journal.validLength <= bytes.count, "applied prefix outside the file")
        precondition(journal.validLength == 0 || bytes[journal.validLength - 1] == UInt8(ascii: "\n"),
                     "the applied prefix does not end on a line boundary")
        for (id, put) in journal.puts {
            precondition(RecordIDBytes.isCanonical(Array(id.utf8)), "a put with a non-canonical id")
            precondition(put.state.lowerBound >= 0 && put.state.upperBound <= journal.validLength, "state slice outside the applied prefix")
            if let view = put.view {
                precondition(view.lowerBound >= 0 && view.upperBound <= journal.validLength, "view slice outside the applied prefix")
            }
            _ = try? RecordState(jsonBytes: journal.stateBytes(put))
        }

        let reloaded = Journal(bytes: Array(bytes[..<journal.validLength]))
        precondition(reloaded.validLength == journal.validLength, "reloading the applied prefix applies a different prefix")
        precondition(summary(reloaded) == summary(journal), "reloading the applied prefix gives another journal")

        // A writer that loaded the first part, then appended the rest.
        let split = bytes.isEmpty ? 0 : Int(bytes[0]) * bytes.count / 256
        var appended = Journal(bytes: Array(bytes[..<split]))
        let kept = appended.validLength
        appended.appendWritten(Array(bytes[split...]))
        let whole = Journal(bytes: Array(bytes[..<kept]) + bytes[split...])
        precondition(appended.validLength == whole.validLength, "appending applies a different prefix than loading")
        precondition(summary(appended) == summary(whole), "appending gives another journal than loading")
    }

    /// Everything a reader sees of a journal, comparable.
    private static func summary(_ journal: Journal) -> [String] {
        var lines = journal.puts.map { "put \($0.key) \($0.value)" }
        lines += journal.pending.map { "pending \($0.key) \($0.value)" }
        lines += journal.dropped.map { "dropped \($0.key) \($0.value)" }
        lines.sort()
        lines.append("cursor \(journal.hasCursor) \(journal.cursor ?? "null")")
        lines.append("scope \(String(describing: journal.scope))")
        lines.append("rescoping \(String(describing: journal.rescoping))")
        lines.append("synced \(journal.lastSync ?? "null")")
        lines.append("replica \(String(describing: journal.replica))")
        return lines
    }
}

extension RecordIDBytes {
    static func isCanonical(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { isCanonical($0) }
    }
}
