import ArgumentParser
import Foundation

extension CXServerCommand {
    /// `cx-server user …`: manage users, their roles and territories.
    struct User: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage users, their roles and territories.",
            subcommands: [Add.self, List.self, AddTerritory.self, RemoveTerritory.self, SetRole.self])

        /// `cx-server user add NAME [--role R] [--territory T]…`
        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a user.",
                discussion: """
                    Reps and managers sync the customers of their territories (and those customers' \
                    activities); admins sync everything.

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
                guard !name.isEmpty, name.unicodeScalars.count <= 100,
                    !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
                else {
                    throw ValidationError("a user name is 1–100 characters (Unicode code points) without control characters")
                }
                try TerritoryName.validate(territories)
            }

            func run() async throws {
                let logger = logging.logger("cx.server.admin")
                let user = try database.withMigratedConnection(logger: logger) { connection in
                    TerritoryName.warnAboutCaseVariants(try UserStore.caseVariants(of: territories, on: connection))
                    return try UserStore.addUser(name, role: role, territories: territories, on: connection)
                }
                print("Created \(user.summary). Issue a token with `cx-server token issue \(ShellWords.quoted(user.name))\(database.hintArguments)`.")
            }
        }

        /// `cx-server user list`
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List users with their roles and territories.")

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func run() async throws {
                let logger = logging.logger("cx.server.admin")
                let users = try database.withMigratedConnection(logger: logger) { connection in
                    try UserStore.users(on: connection)
                }
                print("USER          ROLE     TERRITORIES")
                for user in users {
                    let territories = user.role == .admin ? "(all)" : user.territories.joined(separator: ", ")
                    print("\(user.name.padding(14))\(user.role.rawValue.padding(9))\(territories)")
                }
            }
        }

        /// `cx-server user add-territory NAME T…`
        struct AddTerritory: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Give a user more territories.",
                discussion: """
                    The user's next `cx sync` brings in the customers of the new territories.

                    Example: cx-server user add-territory alice south
                    """)

            @Argument(help: "The user's name.")
            var name: String

            @Argument(help: "Territories to add.")
            var territories: [String]

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func validate() throws {
                guard !territories.isEmpty else { throw ValidationError("name at least one territory") }
                try TerritoryName.validate(territories)
            }

            func run() async throws {
                let logger = logging.logger("cx.server.admin")
                let user = try database.withMigratedConnection(logger: logger) { connection in
                    TerritoryName.warnAboutCaseVariants(try UserStore.caseVariants(of: territories, on: connection))
                    return try UserStore.addTerritories(territories, to: name, on: connection)
                }
                print("Updated: \(user.summary).")
            }
        }

        /// `cx-server user remove-territory NAME T…`
        struct RemoveTerritory: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Take territories from a user.",
                discussion: """
                    The user's next `cx sync` first pushes the edits they made offline (accepted \
                    for `handoff_days`, default 14, after the removal), then removes the \
                    territories' customers from their cache.

                    Example: cx-server user remove-territory alice east
                    """)

            @Argument(help: "The user's name.")
            var name: String

            @Argument(help: "Territories to remove.")
            var territories: [String]

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func validate() throws {
                guard !territories.isEmpty else { throw ValidationError("name at least one territory") }
            }

            func run() async throws {
                let logger = logging.logger("cx.server.admin")
                let user = try database.withMigratedConnection(logger: logger) { connection in
                    try UserStore.removeTerritories(territories, from: name, on: connection)
                }
                print("Updated: \(user.summary).")
            }
        }

        /// `cx-server user set-role NAME ROLE`
        struct SetRole: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Change a user's role (rep, manager or admin).",
                discussion: "Example: cx-server user set-role carol manager")

            @Argument(help: "The user's name.")
            var name: String

            @Argument(help: "rep, manager or admin.")
            var role: UserRole

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func run() async throws {
                let logger = logging.logger("cx.server.admin")
                let user = try database.withMigratedConnection(logger: logger) { connection in
                    try UserStore.setRole(role, of: name, on: connection)
                }
                print("Updated: \(user.summary).")
            }
        }
    }
}

/// Rules for territory names given to admin commands: the same length limit as a customer's
/// `territory` field (200 code points), no control characters; stored in NFC by ``UserStore``.
/// Names are case-sensitive; a name that differs from an existing one only in case is accepted
/// with a warning (docs/security.md, "Territory names").
enum TerritoryName {
    static let maximumLength = 200

    static func validate(_ territories: [String]) throws {
        for territory in territories {
            guard !territory.isEmpty, UserStore.canonical(territory).unicodeScalars.count <= maximumLength,
                !territory.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            else {
                throw ValidationError(
                    "territory '\(territory.prefix(100))' must be 1–\(maximumLength) characters (Unicode code points) without control characters")
            }
        }
    }

    /// Prints a warning on standard error for each territory that differs from existing ones
    /// only in letter case.
    static func warnAboutCaseVariants(_ variants: [String: [String]]) {
        for (territory, existing) in variants.sorted(by: { $0.key < $1.key }) {
            let list = existing.map { "'\($0)'" }.joined(separator: ", ")
            let line =
                "warning: territory '\(territory)' differs only in letter case from \(list); "
                + "territory names are case-sensitive, so these are different territories\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}

extension UserStore.User {
    /// "rep 'alice' with territories east, north".
    var summary: String {
        let scope =
            role == .admin ? "access to every territory"
            : territories.isEmpty ? "no territories" : "territories " + territories.joined(separator: ", ")
        return "\(role.rawValue) '\(name)' with \(scope)"
    }
}

extension UserRole: ExpressibleByArgument {}
