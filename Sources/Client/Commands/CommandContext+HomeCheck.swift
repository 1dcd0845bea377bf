import CXModel

extension CommandContext {
    /// Before a read that summarises the whole book (`cx list`, `cx report`): says on stderr
    /// why the output may be empty, so all zeros are not mistaken for an empty book. Standard
    /// output and the exit status stay as they are, for scripts — except when there is no
    /// home at all (most likely a mistyped `--home`), which is an error (exit 1).
    ///
    /// - Parameters:
    ///   - store: The opened cache (for the last sync and the size of the book).
    ///   - what: What the command prints, for the message (`the report`, `the list`).
    ///   - emptyBook: Whether to warn about an initialised home without customers too (a
    ///     report of zeros; `cx list` says "No customers yet" by itself).
    /// - Throws: exit 1 when neither the configuration nor the data directory exists.
    func checkHomeBeforeReading(_ store: CacheStore, what: String, emptyBook: Bool) throws {
        try requireHome()
        guard try configuration() != nil else {
            terminal.warn(
                "this cx home (\(paths.configDirectory)) is not initialised, so \(what) is empty. "
                    + "Run `cx init --server URL --token TOKEN`, then `cx sync`.")
            return
        }
        let server = try serverSettings(nil).server
        if let server, store.lastSync == nil {
            terminal.warn("this cx home has never synced with \(server), so \(what) shows only what was added here. Run `cx sync`.")
        } else if emptyBook, try store.counts().customers == 0 {
            let fix = server == nil
                ? "or connect a server: `cx init --server URL --token TOKEN`, then `cx sync`"
                : "or run `cx sync`"
            terminal.warn("the cache holds no customers, so \(what) is empty. Add one with `cx add --name NAME`, \(fix).")
        }
    }
}

extension CommandContext {
    /// Throws (exit 1) when neither the home's configuration nor its data directory exists.
    func requireHome() throws {
        guard POSIX.exists(paths.configDirectory) || POSIX.exists(paths.dataDirectory) else {
            throw CXError(
                .failure, "there is no cx home at \(paths.configDirectory)",
                hint: "Check --home and $CX_HOME, or set this one up: `cx init --server URL --token TOKEN`, then `cx sync`.")
        }
    }
}

extension CommandContext {
    /// What an insight command (`cx report`, `cx cohorts`) works on: the period from
    /// `--year` or `--from`/`--to`, the classification settings, and the cached book, read
    /// after ``checkHomeBeforeReading(_:what:emptyBook:)``.
    func insightInputs(
        year: Int?, from: String?, to: String?, what: String
    ) throws -> (start: CalendarDate, end: CalendarDate, settings: ClassificationSettings, book: CustomerBook) {
        let (start, end) = try InsightReport.period(year: year, from: from, to: to, today: try today())
        let settings = try classificationSettings()
        let store = try openStore(exclusive: false)
        defer { store.close() }
        try checkHomeBeforeReading(store, what: what, emptyBook: true)
        let book = try store.customerBook()
        KeptUntilExit.keep(book)
        return (start, end, settings, book)
    }
}
