import ArgumentParser

/// The `cx` command: the offline-first customer CLI.
public struct CX: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cx",
        abstract: "Offline-first customer records, synced with a cx server.",
        version: "0.1.0"
    )

    public init() {}

    public func run() async throws {
        print(Self.helpMessage())
    }
}
