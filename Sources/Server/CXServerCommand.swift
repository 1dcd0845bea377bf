import ArgumentParser

/// The `cx-server` command: the sync server and its administration subcommands.
public struct CXServerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cx-server",
        abstract: "The cx sync server: HTTP sync API over PostgreSQL.",
        version: "0.1.0"
    )

    public init() {}

    public func run() async throws {
        print(Self.helpMessage())
    }
}
