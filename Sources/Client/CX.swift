import ArgumentParser

/// The `cx` command: the offline-first customer CLI.
public struct CX: AsyncParsableCommand {
    /// The version printed by `cx --version` and sent as the User-Agent.
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "cx",
        abstract: "Offline-first customer records, synced with a cx server.",
        discussion: """
            cx keeps customers and their activities (purchases, payments, referrals, visits) in a \
            local cache that works offline; `cx sync` exchanges changes with the server. Concurrent \
            edits merge field by field; real conflicts are kept and shown by `cx conflicts`.

            Getting started:
              cx init --server https://cx.example.com --token cx_…
              cx add --name "Acme" --territory north --tag b2b
              cx purchase 3f2a9c --amount 120.00 --margin 0.12
              cx sync

            Ids: every command that takes an ID accepts a unique prefix of at least 6 characters.
            Configuration: --home DIR or $CX_HOME holds config and cache; otherwise \
            $XDG_CONFIG_HOME/cx and $XDG_DATA_HOME/cx. Server and token: flag > $CX_SERVER/$CX_TOKEN \
            > configuration.
            Exit codes: 0 ok, 1 failure, 3 conflicts remain after sync, 64 usage, 65 bad input data, \
            69 server unreachable, 77 authentication or permission refused (also: sync done but \
            the server refused some changes).
            Shell completion: cx --generate-completion-script bash|zsh|fish
            """,
        version: CX.version,
        subcommands: [
            Init.self, Add.self, Edit.self, Show.self, List.self, Remove.self,
            Purchase.self, Paid.self, Referral.self, Touch.self, Activities.self,
            Sync.self, Status.self, History.self, Forget.self, Conflicts.self, Resolve.self,
            Report.self, Cohorts.self, Value.self, Import.self, Export.self, Duplicates.self, Merge.self,
        ]
    )

    public init() {}

    /// The entry point: ArgumentParser's, except that a refused command line is first checked
    /// for an unknown command or option (``ArgumentTypos``), which is reported, with the
    /// nearest valid word, before whatever ArgumentParser noticed first (exit 64).
    public static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        var command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot(arguments)
        } catch {
            if let typo = ArgumentTypos.find(in: arguments, root: CX.self) {
                let terminal = Terminal(environment: ProcessEnvironment.current)
                terminal.error(typo)
                exit(withError: ExitCode(typo.code.rawValue))
            }
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
