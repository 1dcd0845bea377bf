import ArgumentParser
import CXModel

extension CX {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set up this cx home: replica id, server and token.",
            discussion: """
                Creates the replica id once (kept when run again), stores the server URL in \
                config.json and the token in its own file with mode 0600, and asks the server who \
                the token belongs to (GET /v1/me): writes carry that user name. If the server cannot \
                be reached, init still succeeds offline with a warning.

                Examples:
                  cx init --server https://cx.example.com --token cx_0123…
                  cx init --token cx_new…            # replace the token, keep everything else
                  cx init                            # offline only: just create the replica id
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var serverOptions: ServerOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            try await runCommand(global) { context in
                var configuration = try context.configuration() ?? Configuration(replicaID: Configuration.newReplicaID())
                let created = try context.configuration() == nil
                if let server = serverOptions.server {
                    let server = try SyncClient.normalize(server)
                    if configuration.server != server { configuration.user = nil }
                    configuration.server = server
                }
                if let token = serverOptions.token {
                    guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                        throw CXError(.usage, "the token contains spaces or control characters")
                    }
                    try Configuration.saveToken(token, context.paths)
                    configuration.user = nil
                }
                try POSIX.makeDirectories(context.paths.dataDirectory)
                try configuration.save(context.paths)

                let settings = try context.serverSettings(serverOptions)
                var online = false
                var role: String?
                if let server = settings.server, let token = settings.token {
                    let client = try SyncClient(server: server, token: token, retrier: Retrier(policy: .once))
                    do {
                        let me = try await client.me()
                        configuration.user = me.user
                        role = me.role
                        online = true
                        try configuration.save(context.paths)
                    } catch let error as CXError where error.code == .unavailable {
                        context.terminal.warn("\(error.message); working offline. `cx sync` will connect later.")
                    } catch {
                        await client.shutdown()
                        throw error
                    }
                    await client.shutdown()
                } else if settings.server == nil {
                    context.terminal.note("No server configured: cx works offline. Set one later with `cx init --server URL --token TOKEN`.")
                }
                if json {
                    let document = CommandDocuments.Initialised(
                        replicaID: configuration.replicaID, server: configuration.server, user: configuration.user, online: online)
                    CommandOutput.printJSON(try CommandDocuments.bytes(document), terminal: context.terminal)
                } else {
                    let verb = created ? "Initialised" : "Updated"
                    var text = "\(verb) \(context.paths.configDirectory) (replica \(configuration.replicaID))"
                    if let user = configuration.user { text += ", signed in as \(user)" + (role.map { " (\($0))" } ?? "") }
                    context.terminal.line(text + ".")
                }
            }
        }
    }
}
