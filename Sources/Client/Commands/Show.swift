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
                prospect, advocate, customer) and why, and its figures of `cx value` (12 months \
                ahead): P(alive), expected purchases and value, from the models the last \
                `cx value` fitted on the whole cache (--value fits them again first).

                JSON shape: {"id","kind","fields":{name: value},"tags":[…],"deleted":bool,
                "status","status_reason","value" (customers; value is null without a purchase, \
                before the first `cx value`, or when the book is too small to fit: {"as_of",
                "expected_purchases","expected_spend","expected_value","frequency","horizon",
                "models_fitted_as_of","monetary","p_alive","recency","t"}),
                "conflicts":[{"field","candidates":[{"value","replica","user","at"}]}]}

                Examples:
                  cx show 3f2a9c1e
                  cx show 3f2a9c1e --json | jq -r .fields.email
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var asOf: AsOfOption
        @Argument(help: "Record id or unique prefix (≥ 6 characters).") var id: String
        @Flag(help: "Print the record as JSON.") var json = false
        @Flag(help: "Fit the value models on the whole cached book again before showing the figures (seconds on a large one).")
        var value = false

        func run() async throws {
            try await runCommand(global) { context in
                try asOf.apply(to: context)
                let store = try context.openStore(exclusive: false)
                defer { store.close() }
                let (id, kind) = try context.resolve(self.id, in: store)
                guard let bytes = try store.viewBytes(id) else { throw CXError(.failure, "no record \(id)") }
                var assessment: CustomerClassifier.Assessment?
                var value: CustomerValueFigures?
                if kind == .customer {
                    let classifier = CustomerClassifier(settings: try context.classificationSettings())
                    let today = try context.today(), activities = try CustomerActivityReader(store).book(of: id)
                    assessment = classifier.assess(id, in: activities, asOf: today)
                    let kept = ValueModelsFile(context.paths)
                    if self.value {
                        // The fit reads the whole book, so only on request; the models are kept
                        // for the next `cx show`.
                        value = CustomerValueFigures(of: id, book: try store.customerBook(), asOf: today)
                        if let models = value?.models { try kept.save(models) }
                    } else {
                        // `cx show` stays a lookup: the kept models on this customer's purchases.
                        let purchases = (activities.purchases[id] ?? []).map { CustomerValueTable.DatedAmount(on: $0.on, amount: $0.amount) }
                        value = CustomerValueFigures(
                            of: CustomerValueTable.History(id: id, name: "", purchases: purchases), models: kept.load(), asOf: today)
                    }
                }
                if json {
                    if let assessment {
                        CommandOutput.printJSON(
                            StatusJSON.insert(
                                into: bytes, status: assessment.status, reason: assessment.reason, extra: value?.jsonMember() ?? []),
                            terminal: context.terminal)
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
                if let line = value?.humanLine() { context.terminal.line(line) }
                if kind == .activity {
                    for line in try CreditNoteLines.lines(for: view, in: store) { context.terminal.line(line) }
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
