/// An admin command found no database to work on: it says where it looked and the command
/// to type to reach the running server's database. Admin commands never create a cluster, so
/// a mistyped or forgotten `--data-dir` cannot leave users and tokens in a database nobody serves.
struct DatabaseNotFound: Error, CustomStringConvertible {
    /// Where the data directory that was looked at came from.
    enum Source: Sendable {
        case option
        case environment
        case runningServer(RunningServerRecord)
        case defaultDirectory
    }

    enum Reason: Sendable {
        /// No PostgreSQL cluster in the data directory.
        case noCluster(dataDirectory: String, source: Source)
        /// Several running servers use different databases.
        case ambiguous([RunningServerRecord])
        /// The one running server uses an external PostgreSQL, whose URL it does not publish.
        case externalServer(RunningServerRecord)
    }

    let reason: Reason
    /// The command that failed, without database options, to which the hint appends them.
    let command: String

    init(_ reason: Reason, command: String = ShellWords.currentCommandWithoutDatabaseOptions()) {
        self.reason = reason
        self.command = command
    }

    var description: String {
        switch reason {
        case .noCluster(let directory, let source):
            let origin: String
            switch source {
            case .option: origin = "given with --data-dir"
            case .environment: origin = "from \(DatabaseOptions.dataDirectoryVariable)"
            case .runningServer(let server): origin = "the data directory of the cx-server running at \(server.url), pid \(server.pid)"
            case .defaultDirectory:
                let records = RunningServerRecord.directory().map { " (none is recorded in \($0))" } ?? ""
                origin = "the default data directory; no running `cx-server serve` was found\(records)"
            }
            return """
                no cx-server database in \(directory) (\(origin)): there is no PostgreSQL cluster there, and admin commands never create one.
                Point this command at the database your server uses, with the --data-dir that `cx-server serve` was started with:
                    \(command) --data-dir DIR
                or set it once for this shell: export \(DatabaseOptions.dataDirectoryVariable)=DIR
                (a server on an external PostgreSQL: --database-url URL, or DATABASE_URL).
                To create a new database in \(directory), start a server on it: cx-server serve --data-dir \(ShellWords.quoted(directory))
                """
        case .ambiguous(let servers):
            let lines = servers.map { server in
                let database = server.dataDirectory.map { "--data-dir " + ShellWords.quoted($0) } ?? "--database-url URL (an external PostgreSQL)"
                return "    \(command) \(database)        # the server at \(server.url), pid \(server.pid)"
            }
            return """
                several cx-server serve processes are running on different databases; say which one this command is for:
                \(lines.joined(separator: "\n"))
                """
        case .externalServer(let server):
            return """
                the cx-server running at \(server.url) (pid \(server.pid)) uses an external PostgreSQL; give this command the same database:
                    \(command) --database-url URL
                or export DATABASE_URL=URL (libpq's PG* variables work as well)
                """
        }
    }
}
