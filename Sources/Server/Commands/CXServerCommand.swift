import ArgumentParser

/// The `cx-server` command: the sync server and its administration subcommands.
public struct CXServerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cx-server",
        abstract: "The cx sync server: an HTTP sync API over PostgreSQL.",
        discussion: """
            With no --database-url (and no DATABASE_URL), cx-server runs its own PostgreSQL in the \
            data directory, reachable only through a Unix socket there. Only serve creates that \
            cluster: the admin commands use the database of the `cx-server serve` running for this \
            user, or the one --data-dir (or CX_SERVER_DATA_DIR) names, and fail rather than create one.

            Examples:
              cx-server serve                                  # embedded PostgreSQL, port 8080
              cx-server serve --data-dir /tmp/try-cx --log-format json
              cx-server serve --database-url postgresql://cx@db/cx --port 9000
              cx-server user add alice --role rep --territory north
              cx-server token issue alice
              cx-server import activities invoices-2026.csv
            """,
        version: "0.1.0",
        subcommands: [Serve.self, Migrate.self, User.self, Token.self, Settings.self, Epoch.self, Value.self, Import.self]
    )

    public init() {}
}
