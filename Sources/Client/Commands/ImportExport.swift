import ArgumentParser
import CXModel

extension CX {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import customers from a CSV file.",
            discussion: """
                The header row names the columns: name, company, email, phone, address, city, \
                country, territory, owner, segment, notes, reference, tags (separated by ';'), extra.<key>, and \
                optionally id (updates that customer, or creates it with that id — so an export \
                imports back). Every row is validated first: if any row is bad, nothing is imported, \
                each bad row is reported with its line number, and the exit code is 65.

                Importing the same file again creates nothing twice: a row without an id whose \
                every cell equals an existing customer's value (and whose tags it has) is skipped \
                with a warning and counted as unchanged — so an import that was interrupted, or \
                that looked failed, can simply be run again. --allow-duplicates creates such \
                rows anyway.

                Examples:
                  cx import customers.csv --dry-run
                  cx import customers.csv
                  cx import more-of-the-same.csv --allow-duplicates
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "Validate and report without writing.") var dryRun = false
        @Flag(help: "Create rows without an id even when an existing customer has the same values.") var allowDuplicates = false
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            try await runCommand(global) { context in
                guard let bytes = try POSIX.readFile(file) else {
                    throw CXError(.failure, "cannot read \(file): no such file")
                }
                let (rows, problems) = CustomerCSV.parse(bytes)
                let terminal = context.terminal
                if !problems.isEmpty {
                    for problem in problems.prefix(200) { terminal.note("\(file):\(problem.line): \(problem.message)") }
                    if problems.count > 200 { terminal.note("… and \(problems.count - 200) more problems") }
                    throw CXError(.dataError, "\(problems.count) bad row\(problems.count == 1 ? "" : "s") in \(file); nothing was imported",
                                  hint: "Fix the rows listed above and run the import again.")
                }
                let store = try context.openStore(exclusive: !dryRun)
                defer { store.close() }
                let author = try context.author(in: store)
                var changes: [CacheStore.Change] = []
                var created = 0, updated = 0, unchanged = 0
                var updateProblems: [CustomerCSV.Problem] = []
                // Rows that an earlier import (of this file or another) already created.
                let existing = try allowDuplicates || rows.allSatisfy({ $0.id != nil }) ? nil : ImportDuplicateIndex(store: store)
                var duplicates: [(line: Int, customer: RecordView)] = []
                for row in rows {
                    do {
                        if let id = row.id, var state = try store.state(id) {
                            guard state.kind == .customer else {
                                updateProblems.append(.init(line: row.line, message: "\(id) is an activity, not a customer"))
                                continue
                            }
                            guard !state.isDeleted else {
                                updateProblems.append(.init(line: row.line, message: "customer \(id) is deleted"))
                                continue
                            }
                            let before = state
                            for (name, value) in row.fields.sorted(by: { $0.key < $1.key }) where state.displayedValue(name) != value {
                                try state.set(name, to: value, by: author)
                            }
                            for tag in row.tags where !state.tagNames.contains(tag) { try state.addTag(tag, by: author) }
                            if state == before {
                                unchanged += 1
                            } else {
                                changes.append(.init(state: state, pending: true))
                                updated += 1
                            }
                        } else {
                            var fields: [String: String?] = row.fields.mapValues { $0 }
                            if fields["owner"] == nil, let user = author.user { fields["owner"] = user }
                            let state = try RecordState.new(
                                kind: .customer, id: row.id ?? RecordID.random(), fields: fields, tags: row.tags, by: author)
                            if row.id == nil, let match = existing?.existing(matching: state, fields: row.fields.keys) {
                                duplicates.append((row.line, match))
                                unchanged += 1
                                continue
                            }
                            changes.append(.init(state: state, pending: true))
                            created += 1
                        }
                    } catch {
                        updateProblems.append(.init(line: row.line, message: CXError.from(error).message))
                    }
                }
                if !updateProblems.isEmpty {
                    for problem in updateProblems { terminal.note("\(file):\(problem.line): \(problem.message)") }
                    throw CXError(.dataError, "\(updateProblems.count) bad row\(updateProblems.count == 1 ? "" : "s") in \(file); nothing was imported")
                }
                for duplicate in duplicates.prefix(20) {
                    let customer = "\(Describe.title(duplicate.customer)) (\(Describe.short(duplicate.customer.id)))"
                    terminal.warn("\(file):\(duplicate.line): same as the existing customer \(customer); skipped")
                }
                if !duplicates.isEmpty {
                    let count = duplicates.count
                    terminal.warn(
                        (count > 20 ? "… \(count - 20) more. " : "")
                            + "\(count) row\(count == 1 ? "" : "s") without an id matched existing customers and \(count == 1 ? "was" : "were") not imported again "
                            + "(an earlier import of this file?); `--allow-duplicates` creates them anyway.")
                }
                if !dryRun {
                    try store.commit(changes)
                    try store.compactIfNeeded()
                }
                if json {
                    let document = CommandDocuments.Imported(created: created, updated: updated, unchanged: unchanged, dryRun: dryRun)
                    CommandOutput.printJSON(try CommandDocuments.bytes(document), terminal: terminal)
                } else {
                    let verb = dryRun ? "Would import" : "Imported"
                    terminal.line("\(verb) \(rows.count) row\(rows.count == 1 ? "" : "s") from \(file): \(created) new, \(updated) updated, \(unchanged) unchanged.")
                }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        enum Format: String, ExpressibleByArgument, CaseIterable {
            case csv, json
        }

        static let configuration = CommandConfiguration(
            abstract: "Export every customer (or, with --activities, every activity) as CSV or JSON.",
            discussion: """
                Deleted customers are left out. CSV has the columns `cx import` reads (id first, \
                tags separated by ';', one extra.<key> column per extra field), so an export imports \
                back. JSON is an array of `cx show --json` objects.

                --activities exports the purchases, payments, referrals and touchpoints instead, \
                oldest first: CSV columns id, customer_id, type, on, amount, margin, due_on, \
                paid_on, reference, referred_customer_id, referred_name, note, channel, nps, credits, tags, \
                extra.<key>…; JSON an array of `cx show --json` objects (kind "activity").

                Examples:
                  cx export > customers.csv
                  cx export --format json | jq length
                  cx export --activities > activities.csv
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "csv or json.") var format: Format = .csv
        @Flag(help: "Export activities instead of customers.") var activities = false

        func run() async throws {
            try await runCommand(global) { context in
                let store = try context.openStore(exclusive: false)
                defer { store.close() }
                let terminal = context.terminal
                if activities {
                    try exportActivities(store, terminal: terminal)
                    return
                }
                let filter = CustomerFilter()
                switch format {
                case .json:
                    terminal.write("[")
                    var count = 0
                    try filter.forEachMatch(in: store) { line, _ in
                        if count > 0 { terminal.write(",\n") }
                        terminal.write(line)
                        count += 1
                    }
                    terminal.write("]\n")
                case .csv:
                    var views: [RecordView] = []
                    try filter.forEachMatch(in: store) { line, _ in views.append(try RecordView(jsonBytes: line)) }
                    terminal.write(try CustomerCSV.export(views))
                }
            }
        }

        /// Every live activity, oldest first (by `on`, then id).
        private func exportActivities(_ store: CacheStore, terminal: Terminal) throws {
            var items: [(view: RecordView, bytes: [UInt8])] = []
            for (id, kind) in try store.records() where kind == .activity {
                guard let bytes = try store.viewBytes(id) else { continue }
                let view = try RecordView(jsonBytes: bytes)
                if !view.deleted { items.append((view, bytes)) }
            }
            items.sort { RecordView.isActivityBefore($0.view, $1.view) }
            switch format {
            case .json:
                terminal.write("[")
                for (index, item) in items.enumerated() {
                    if index > 0 { terminal.write(",\n") }
                    terminal.write(item.bytes)
                }
                terminal.write("]\n")
            case .csv:
                terminal.write(try CustomerCSV.export(items.map(\.view), columns: CustomerCSV.activityColumns))
            }
        }
    }
}
