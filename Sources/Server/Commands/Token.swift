import ArgumentParser

extension CXServerCommand {
    /// `cx-server token …`: issue, revoke and list access tokens.
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage access tokens.", subcommands: [Issue.self, Revoke.self, List.self])

        /// `cx-server token issue NAME`
        struct Issue: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Issue a token for a user; it is printed once, only its hash is stored.")

            @Argument(help: "The user's name.")
            var name: String

            @Option(help: "Days until the token expires (default: never).")
            var expiresInDays: Int?

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func validate() throws {
                if let expiresInDays, expiresInDays < 1 { throw ValidationError("--expires-in-days must be at least 1") }
            }

            func run() async throws {
                let logger = logging.logger("cx.server.admin")
                let token = try database.withMigratedConnection(logger: logger) { connection in
                    try UserStore.issueToken(for: name, expiresInDays: expiresInDays, on: connection)
                }
                print(token)
            }
        }

        /// `cx-server token revoke TOKEN_OR_PREFIX`
        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke a token, given in full or by its prefix (cx_ and 12 hex digits).")

            @Argument(help: "The token or its prefix.")
            var token: String

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func run() async throws {
                let logger = logging.logger("cx.server.admin")
                let count = try database.withMigratedConnection(logger: logger) { connection in
                    try UserStore.revokeToken(token, on: connection)
                }
                guard count > 0 else { throw AdminError("no active token matches '\(token)'") }
                print("Revoked \(count) token\(count == 1 ? "" : "s"); requests using it are refused from now on.")
            }
        }

        /// `cx-server token list`
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List tokens (prefixes only, never the tokens).")

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func run() async throws {
                let logger = logging.logger("cx.server.admin")
                let tokens = try database.withMigratedConnection(logger: logger) { connection in
                    try UserStore.tokens(on: connection)
                }
                print("PREFIX            USER          CREATED           LAST USED         STATUS")
                for token in tokens {
                    let status = token.revokedAt.map { "revoked \(LocalTime.minutes($0))" }
                        ?? token.expiresAt.map { "expires \(LocalTime.minutes($0))" } ?? "active"
                    print(
                        "\(token.prefix.padding(18))\(token.user.padding(14))\(LocalTime.minutes(token.createdAt).padding(18))"
                            + "\((token.lastUsedAt.map(LocalTime.minutes) ?? "never").padding(18))\(status)")
                }
            }
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
