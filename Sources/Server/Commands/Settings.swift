import ArgumentParser
import CXModel

extension CXServerCommand {
    /// `cx-server settings …`: the classification settings in `cx.settings`, the same keys as
    /// the `cx` config file (`window_days`, `target_margin`, `grace_days`).
    struct Settings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or change the server settings: customer classification and the scope hand-off window.",
            subcommands: [Show.self, Set.self])

        /// `cx-server settings show`
        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print the settings.")

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func run() async throws {
                let logger = logging.logger("cx.server.admin")
                let rows = try database.withMigratedConnection(logger: logger) { try SettingsStore.all(on: $0) }
                for (key, value) in rows { print("\(key) = \(value)") }
            }
        }

        /// `cx-server settings set KEY VALUE`
        struct Set: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Change one setting.",
                discussion: """
                    Keys: window_days (whole days ≥ 1), target_margin (a fraction in [-1, 1], at most 4 \
                    places), grace_days (whole days ≥ 0), handoff_days (whole days ≥ 0: how long a \
                    user may still push offline edits to customers that left their territories).

                    Example: cx-server settings set target_margin 0.12
                    """)

            @Argument(help: "window_days, target_margin, grace_days or handoff_days.")
            var key: String

            @Argument(help: "The new value.")
            var value: String

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var logging: LoggingOptions

            func validate() throws {
                switch key {
                case "window_days":
                    guard let days = Int(value), days >= 1 else { throw ValidationError("window_days must be a whole number of days ≥ 1") }
                case "grace_days", "handoff_days":
                    guard let days = Int(value), days >= 0 else { throw ValidationError("\(key) must be a whole number of days ≥ 0") }
                case "target_margin":
                    guard let margin = DecimalText(value), margin.isWithinUnitRange else {
                        throw ValidationError("target_margin must be a fraction between -1 and 1 with at most 4 places, e.g. 0.10")
                    }
                default:
                    throw ValidationError("unknown setting '\(key)'; use window_days, target_margin, grace_days or handoff_days")
                }
            }

            func run() async throws {
                let logger = logging.logger("cx.server.admin")
                _ = try database.withMigratedConnection(logger: logger) { try SettingsStore.set(key, to: value, on: $0) }
                print("\(key) = \(value). Clients use the same key in their cx config file.")
            }
        }
    }
}
