import ArgumentParser

extension CXServerCommand {
    /// `cx-server epoch …`: the database's epoch, which every sync cursor carries.
    struct Epoch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or renew the server epoch (renew it after restoring the database from a file-level snapshot).",
            discussion: """
                Every sync cursor carries the epoch of the database that issued it. A client whose \
                cursor names another epoch, or a change the database never numbered, pulls its \
                book again and re-sends what the database lacks. Restoring into a new cluster, \
                point-in-time recovery and promoting a standby change the epoch by themselves; \
                after putting a file-level snapshot back in place, run `cx-server epoch renew`.
                """,
            subcommands: [Show.self, Renew.self], defaultSubcommand: Show.self)

        /// `cx-server epoch show`
        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print the current epoch and last change number.")

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func run() async throws {
                let epoch = try database.withMigratedConnection(logger: logging.logger("cx.server.admin")) { connection in
                    try ServerEpoch.current(on: connection)
                }
                print("epoch \(epoch.id), last change \(epoch.lastSequence)")
            }
        }

        /// `cx-server epoch renew`
        struct Renew: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Start a new epoch: every client re-syncs its book and re-sends what is missing.")

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func run() async throws {
                let epoch = try database.withMigratedConnection(logger: logging.logger("cx.server.admin")) { connection in
                    try ServerEpoch.renew(on: connection)
                    return try ServerEpoch.current(on: connection)
                }
                print("new epoch \(epoch.id): clients re-sync their books at their next `cx sync`")
            }
        }
    }
}
