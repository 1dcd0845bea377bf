import CXPostgres
import Foundation


/// What `serve` does on an empty database: create the `admin` user and a one-time token.
enum FirstStart {
    /// Creates `admin` and returns its token when the database has no user yet.
    static func createAdminIfEmpty(on connection: PostgresConnection) throws -> String? {
        guard try UserStore.userCount(on: connection) == 0 else { return nil }
        try UserStore.addUser("admin", role: .admin, territories: [], on: connection)
        return try UserStore.issueToken(for: "admin", on: connection)
    }

    static func printBanner(token: String, url: String) {
        // Written straight to the file descriptor: with stdout on a pipe, print() would sit
        // in a buffer while the server runs, and whoever started it would never see the token.
        FileHandle.standardOutput.write(Data(
            """

            Created user 'admin'. Its token is shown only this once:

                \(token)

            Point cx at this server with it:

                cx init --server \(url) --token \(token)

            Add reps with `cx-server user add NAME --territory T` and `cx-server token issue NAME`.

            """.utf8))
    }
}
