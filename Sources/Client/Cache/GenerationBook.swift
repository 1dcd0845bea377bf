import CXModel

/// A generation's `book.bin` (``BookFile``): written from the generation's facts files once
/// its tables are complete, read by ``CacheStore/customerBook()`` so that a report parses
/// nothing. Derived data: when it is missing (generations written before it) or unreadable,
/// the book is built from the facts files.
enum GenerationBook {
    static let fileName = "book.bin"

    /// Writes `book.bin` into the generation `directory` from its customers' and activities'
    /// facts files, durably. Writes nothing when a table has no facts file or a record cannot
    /// be stored faithfully: readers then use the facts files.
    static func write(in directory: String) throws {
        let path = directory + "/" + fileName
        POSIX.removeTree(path)
        var writer = BookFile.Writer()
        for table in ["customers", "activities"] {
            let factsName = SnapshotTable.fileNames(table)[3]
            guard let file = try FileHandle.openIfExists(directory + "/" + factsName) else {
                // A table without records has no files at all; one with records has its facts.
                if POSIX.exists(directory + "/" + SnapshotTable.fileNames(table)[2]) { return }
                continue
            }
            var unreadable = false
            try LineReader(file: file).forEachLine { line in
                do {
                    try writer.add(factsLine: line)
                    return true
                } catch {
                    unreadable = true
                    return false
                }
            }
            if unreadable { return }
        }
        guard writer.isFaithful else { return }
        // Written beside and renamed: a generation in use may get its book late
        // (CacheStore.writeBookIfMissing), and its readers must see all of it or nothing.
        let temporary = path + ".tmp"
        let output = try BufferedWriter(path: temporary)
        for part in writer.parts() { try output.write(part) }
        try output.finish()
        try POSIX.move(temporary, to: path)
        try POSIX.syncDirectory(directory)
    }

    /// The bytes of `directory`'s `book.bin`, or `nil` when it has none.
    static func read(in directory: String) throws -> [UInt8]? {
        try POSIX.readFile(directory + "/" + fileName)
    }
}
