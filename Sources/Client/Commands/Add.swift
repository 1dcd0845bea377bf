import ArgumentParser
import CXModel

extension CX {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a customer; prints its id.",
            discussion: """
                Works offline: the customer is written to the local cache and pushed by the next \
                `cx sync`. The owner defaults to the signed-in user. When the last sync showed \
                that you hold only some territories, a customer outside them (or without one) is \
                still added, with a warning: the server will refuse it until you change it.

                Examples:
                  cx add --name "Acme" --company "Acme Ltd" --email buyer@acme.example --territory north
                  cx add --name "Bistro Lyon" --tag restaurant --tag vip --set extra.source=fair
                  id=$(cx add --name "Acme")          # scripts: the id alone on stdout
                  cx add --name "Acme" --json         # {"id":"…"}
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "Customer name (required).") var name: String
        @Option(help: "Company.") var company: String?
        @Option(help: "Email address.") var email: String?
        @Option(help: "Phone number.") var phone: String?
        @Option(help: "Postal address.") var address: String?
        @Option(help: "City.") var city: String?
        @Option(help: "Country.") var country: String?
        @Option(help: "Sales territory.") var territory: String?
        @Option(help: "Owner (rep user name; default: you).") var owner: String?
        @Option(help: "Segment.") var segment: String?
        @Option(help: "Notes.") var notes: String?
        @Option(name: .customLong("tag"), help: ArgumentHelp("A tag (repeatable).", valueName: "tag")) var tags: [String] = []
        @Option(name: .customLong("set"), help: ArgumentHelp("Any field, e.g. extra.source=fair (repeatable).", valueName: "key=value"))
        var sets: [String] = []
        @Flag(help: "Print {\"id\": …} as JSON.") var json = false

        func run() async throws {
            try await runCommand(global) { context in
                var fields: [String: String?] = [
                    "name": name, "company": company, "email": email, "phone": phone, "address": address,
                    "city": city, "country": country, "territory": territory, "owner": try owner ?? context.requireConfiguration().user,
                    "segment": segment, "notes": notes,
                ]
                for pair in sets {
                    let (key, value) = try RecordEditing.keyValue(pair)
                    fields[key] = value
                }
                let store = try context.openStore(exclusive: true)
                defer { store.close() }
                let author = try context.author(in: store)
                let state = try RecordEditing.create(kind: .customer, fields: fields, tags: tags, author: author, in: store)
                try store.compactIfNeeded()
                CommandOutput.printID(state.id, json: json, terminal: context.terminal)
                if let warning = TerritoryCheck.warning(
                    territory: state.displayedValue("territory"), scope: store.scope, id: state.id, action: .add)
                {
                    context.terminal.warn(warning)
                }
            }
        }
    }
}

/// Output shared by commands.
enum CommandOutput {
    /// Prints a created record's id (`{"id": …}` with `--json`).
    static func printID(_ id: String, json: Bool, terminal: Terminal) {
        if json, let bytes = try? CommandDocuments.bytes(CommandDocuments.Created(id: id)) {
            printJSON(bytes, terminal: terminal)
        } else {
            terminal.line(id)
        }
    }

    /// Prints a JSON document followed by a newline.
    static func printJSON(_ bytes: [UInt8], terminal: Terminal) {
        terminal.write(bytes)
        terminal.line()
    }
}
