import ArgumentParser

extension CXServerCommand {
    /// `cx-server migrate`: apply pending schema migrations.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending database migrations (serve also does this at start).")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let logger = logging.logger("cx.server.migrate")
            let versions = try database.withMigratedConnection(logger: logger) { connection in
                try Migrator(logger: logger).appliedVersions(connection)
            }
            print("Schema is at version \(versions.last ?? 0) (\(versions.count) migrations applied).")
        }
    }
}
