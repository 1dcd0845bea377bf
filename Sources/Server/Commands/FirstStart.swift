import CXPostgres
import Foundation


/// What `serve` does on an empty database: create the `admin` user and a one-time token.
enum FirstStart {
    /// Creates `admin` and returns its token when the database has no user yet.
    ///
    /// Several servers starting at once on one empty database serialise on an advisory lock, so
    /// exactly one creates the user and the others find it.
    static func createAdminIfEmpty(on connection: PostgresConnection) throws -> String? {
        try connection.transaction { connection in
            try connection.query("SELECT pg_advisory_xact_lock(\(lockKey))")
            guard try UserStore.userCount(on: connection) == 0 else { return nil }
            try UserStore.insertUser("admin", role: .admin, territories: [], on: connection)
            return try UserStore.issueToken(for: "admin", on: connection)
        }
    }

    /// Advisory lock key for first-start bootstrap ("cxboot" in ASCII).
    static let lockKey: Int64 = 0x63_78_62_6F_6F_74

    /// Prints the admin token once, with commands ready to paste: `cx init` with the server's
    /// real URL, and admin commands with the `--data-dir` they need to reach this database.
    static func printBanner(token: String, url: String, adminArguments: String) {
        // Written straight to the file descriptor: with stdout on a pipe, print() would sit
        // in a buffer while the server runs, and whoever started it would never see the token.
        FileHandle.standardOutput.write(Data(banner(token: token, url: url, adminArguments: adminArguments).utf8))
    }

    static func banner(token: String, url: String, adminArguments: String) -> String {
        """

        Created user 'admin'. Its token is shown only this once:

            \(token)

        Point cx at this server with it:

            cx init --server \(url) --token \(token)

        Add reps from another terminal (this server keeps running here):

            cx-server user add NAME --territory T\(adminArguments)
            cx-server token issue NAME\(adminArguments)

        """
    }
}
