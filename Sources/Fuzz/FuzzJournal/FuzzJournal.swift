import CXClient
import CXFuzzSupport

/// Fuzzes the cache journal loader (`journal.jsonl`): arbitrary bytes loaded as a journal file,
/// checked by ``JournalFuzzing/check(_:)``.
@main enum FuzzJournal {
    static func main() {
        FuzzDriver.run { JournalFuzzing.check($0) }
    }
}
