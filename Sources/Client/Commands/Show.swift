import ArgumentParser
import CXModel

extension CX {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one customer or activity.",
            discussion: """
                Shows every displayed field, tags, whether the record is deleted, and each \
                conflict with all its candidates.

                For a customer, also its classification as of today (lead, bad_debt, passer_by, \
                prospect, advocate, customer) and why.

                JSON shape: {"id","kind","fields":{name: value},"tags":[…],"deleted":bool,
                "status","status_reason" (customers),
                "conflicts":[{"field","candidates":[{"value","replica","user","at"}]}]}

                Examples:
                  cx show 3f2a9c1e
                  cx show 3f2a9c1e --json | jq -r .fields.email
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var asOf: AsOfOption
        @Argument(help: "Record id or unique prefix (≥ 6 characters).") var id: String
        @Flag(help: "Print the record as JSON.") var json = false

        func run() async throws {
            try await runCommand(global) { context in
                try asOf.apply(to: context)
                let store = try context.openStore(exclusive: false)
                defer { store.close() }
                let (id, kind) = try context.resolve(self.id, in: store)
                guard let bytes = try store.viewBytes(id) else { throw CXError(.failure, "no record \(id)") }
                var assessment: CustomerClassifier.Assessment?
                if kind == .customer {
                    let classifier = CustomerClassifier(settings: try context.classificationSettings())
                    assessment = try CustomerActivityReader(store).assess(id, asOf: try context.today(), classifier: classifier)
                }
                if json {
                    if let assessment {
                        CommandOutput.printJSON(
                            StatusJSON.insert(into: bytes, status: assessment.status, reason: assessment.reason), terminal: context.terminal)
                    } else {
                        CommandOutput.printJSON(bytes, terminal: context.terminal)
                    }
                    return
                }
                let view = try RecordView(jsonBytes: bytes)
                for line in Describe.show(view, terminal: context.terminal) { context.terminal.line(line) }
                if let assessment {
                    context.terminal.line(Describe.statusLine(assessment, asOf: context.asOf, terminal: context.terminal))
                }
                if kind == .customer {
                    let activities = try store.activityIDs(ofCustomer: id)
                    if !activities.isEmpty {
                        context.terminal.line("  \(activities.count) activit\(activities.count == 1 ? "y" : "ies"): cx activities \(Describe.short(id))")
                    }
                }
                if try store.isPending(id) {
                    context.terminal.line(context.terminal.out("  Not yet synced.", .dim))
                }
            }
        }
    }
}
