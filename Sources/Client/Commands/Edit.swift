import ArgumentParser
import CXModel

extension CX {
    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change fields or tags of a customer (or activity).",
            discussion: """
                Each changed field becomes a new write; edits of different fields made elsewhere \
                merge silently at sync, edits of the same field become a conflict (`cx conflicts`). \
                Deleted records cannot be edited.

                Examples:
                  cx edit 3f2a9c --phone 555-0101 --territory south
                  cx edit 3f2a9c --set extra.size=120 --unset notes
                  cx edit 3f2a9c --tag +vip --tag -prospect
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Record id or unique prefix (≥ 6 characters).") var id: String
        @Option(help: "New name.") var name: String?
        @Option(help: "New company.") var company: String?
        @Option(help: "New email.") var email: String?
        @Option(help: "New phone.") var phone: String?
        @Option(help: "New address.") var address: String?
        @Option(help: "New city.") var city: String?
        @Option(help: "New country.") var country: String?
        @Option(help: "New territory.") var territory: String?
        @Option(help: "New owner.") var owner: String?
        @Option(help: "New segment.") var segment: String?
        @Option(help: "New notes.") var notes: String?
        @Option(name: .customLong("set"), help: ArgumentHelp("Set any field (repeatable).", valueName: "key=value"))
        var sets: [String] = []
        @Option(name: .customLong("unset"), help: ArgumentHelp("Clear a field (repeatable).", valueName: "key"))
        var unsets: [String] = []
        @Option(name: .customLong("tag"), parsing: .unconditionalSingleValue,
                help: ArgumentHelp("+TAG adds, -TAG removes (repeatable).", valueName: "+tag|-tag"))
        var tags: [String] = []

        func validate() throws {
            let named = [name, company, email, phone, address, city, country, territory, owner, segment, notes]
            if named.allSatisfy({ $0 == nil }) && sets.isEmpty && unsets.isEmpty && tags.isEmpty {
                throw ValidationError("Nothing to change: give at least one field option, --set, --unset or --tag.")
            }
        }

        func run() async throws {
            try await runCommand(global) { context in
                var changes: [(String, String?)] = []
                let named: [(String, String?)] = [
                    ("name", name), ("company", company), ("email", email), ("phone", phone), ("address", address),
                    ("city", city), ("country", country), ("territory", territory), ("owner", owner),
                    ("segment", segment), ("notes", notes),
                ]
                for (field, value) in named { if let value { changes.append((field, value)) } }
                for pair in sets {
                    let (key, value) = try RecordEditing.keyValue(pair)
                    changes.append((key, value))
                }
                for key in unsets { changes.append((key, nil)) }
                let store = try context.openStore(exclusive: true)
                defer { store.close() }
                let author = try context.author(in: store)
                let (id, _) = try context.resolve(self.id, in: store)
                let before = try store.state(id)
                let state = try RecordEditing.modify(id, in: store) { state in
                    for (field, value) in changes where state.displayedValue(field) != value || state.register(field)?.isConflicted == true {
                        try state.set(field, to: value, by: author)
                    }
                    for tag in tags {
                        if tag.hasPrefix("-") {
                            let name = String(tag.dropFirst())
                            if state.tagNames.contains(name) { state.removeTag(name, by: author) }
                        } else {
                            let name = tag.hasPrefix("+") ? String(tag.dropFirst()) : tag
                            try state.addTag(name, by: author)
                        }
                    }
                }
                try store.compactIfNeeded()
                // Setting a field to the value it shows writes nothing (no new version to sync,
                // no conflict with a concurrent edit elsewhere): say so rather than "Updated".
                let verb = state == before ? "Unchanged (it already shows those values):" : "Updated"
                context.terminal.line("\(verb) \(Describe.title(RecordView(state))) (\(Describe.short(id))).")
                if state.kind == .customer, changes.contains(where: { $0.0 == "territory" }),
                    let warning = TerritoryCheck.warning(
                        territory: state.displayedValue("territory"), scope: store.scope, id: id, action: .edit)
                {
                    context.terminal.warn(warning)
                }
            }
        }
    }
}
