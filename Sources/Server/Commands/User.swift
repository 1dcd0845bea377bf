import ArgumentParser

extension CXServerCommand {
    /// `cx-server user …`: manage users.
    struct User: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage users.", subcommands: [Add.self])

        /// `cx-server user add NAME [--role R] [--territory T]…`
        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a user.",
                discussion: """
                    Examples:
                      cx-server user add alice --territory north --territory east
                      cx-server user add carol --role manager --territory north --territory south
                    """)

            @Argument(help: "User name (shown beside the values the user writes).")
            var name: String

            @Option(help: "Role: rep, manager or admin.")
            var role: UserRole = .rep

            @Option(name: .customLong("territory"), help: "A territory the user is responsible for (repeatable).")
            var territories: [String] = []

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func validate() throws {
                guard !name.isEmpty, name.count <= 100, !name.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                    throw ValidationError("a user name is 1–100 characters without control characters")
                }
                if territories.contains(where: \.isEmpty) { throw ValidationError("a territory cannot be empty") }
            }

            func run() async throws {
                let logger = logging.logger("cx.server.admin")
                let user = try database.withMigratedConnection(logger: logger) { connection in
                    try UserStore.addUser(name, role: role, territories: territories, on: connection)
                }
                let scope = user.territories.isEmpty ? "no territories" : "territories " + user.territories.joined(separator: ", ")
                print("Created \(user.role.rawValue) '\(user.name)' with \(scope). Issue a token with `cx-server token issue \(user.name)`.")
            }
        }
    }
}

extension UserRole: ExpressibleByArgument {}
