import ArgumentParser
import CXModel

/// Helpers for the activity commands.
enum ActivityDates {
    /// Today in the local time zone.
    static func today() -> CalendarDate {
        let (year, month, day) = POSIX.localToday()
        return CalendarDate(year: year, month: month, day: day) ?? CalendarDate(Timestamp.now())
    }

    /// Parses a `--on`/`--due` date.
    static func parse(_ text: String?, option: String) throws -> CalendarDate? {
        guard let text else { return nil }
        if text == "today" { return today() }
        if text == "yesterday" { return today().adding(days: -1) }
        guard let date = CalendarDate(text) else {
            throw CXError(.dataError, "\(option): '\(text)' is not a date", hint: "Use YYYY-MM-DD, e.g. 2026-03-01.")
        }
        try OptionValues.requireYear(of: date, text: text, option: option)
        return date
    }

    /// Creates an activity for customer `customer` and prints its id.
    static func create(
        _ context: CommandContext, customer: String, type: String, on: String?, fields extra: [String: String?],
        json: Bool, resolving: ((CacheStore, _ customerID: String) throws -> [String: String?])? = nil
    ) throws {
        let date = try parse(on, option: "--on") ?? today()
        let store = try context.openStore(exclusive: true)
        defer { store.close() }
        let author = try context.author(in: store)
        let (customerID, _) = try context.resolve(customer, in: store, kind: .customer)
        if let state = try store.state(customerID), state.isDeleted {
            let merged = state.mergedInto.map { " (merged into \(Describe.short($0)): add it there)" } ?? ""
            throw CXError(.failure, "\(Describe.title(RecordView(state))) (\(Describe.short(customerID))) is deleted\(merged); activities cannot be added to it")
        }
        var fields = extra
        fields["customer_id"] = customerID
        fields["type"] = type
        fields["on"] = date.description
        if let resolving { fields.merge(try resolving(store, customerID)) { $1 } }
        let state = try RecordEditing.create(kind: .activity, fields: fields, author: author, in: store)
        try store.compactIfNeeded()
        CommandOutput.printID(state.id, json: json, terminal: context.terminal)
    }
}

extension CX {
    struct Purchase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a purchase, a zero-value order or a credit note; prints its id.",
            discussion: """
                The amount is a decimal with at most 2 places; the margin a fraction (0.12 = 12%). \
                --on defaults to today, --due to 30 days after --on. Dates are YYYY-MM-DD. \
                --paid records a purchase that is already paid.

                An amount of 0.00 is a zero-value order (a purchase that adds no revenue). A \
                negative amount is a credit note (a refund): give --credits, the purchase it \
                corrects (id or unique prefix, a purchase of the same customer). A credit note \
                has no due date, subtracts from revenue on its own date and is not a purchase in \
                the counts of classification and `cx report`; without --margin it takes the \
                margin of the purchase it credits.

                Examples:
                  cx purchase 3f2a9c --amount 120.00 --margin 0.12
                  cx purchase 3f2a9c --amount 99.90 --on 2026-03-01 --due 2026-04-15 --ref INV-1042
                  cx purchase 3f2a9c --amount 45.00 --on 2026-03-01 --paid 2026-03-01
                  cx purchase 3f2a9c --amount -20.00 --credits 9b1d22 --ref CN-7
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Customer id or unique prefix.") var id: String
        @Option(parsing: .unconditional, help: "Amount, e.g. 120.00; 0.00 for a zero-value order; negative, e.g. -20.00, for a credit note (with --credits).")
        var amount: String
        @Option(parsing: .unconditional, help: "Gross margin as a fraction in [-1, 1], e.g. 0.12 or -0.02.") var margin: String?
        @Option(help: "Purchase date (default: today).") var on: String?
        @Option(help: "Due date (default: --on + 30 days; none for a credit note).") var due: String?
        @Option(help: "Payment date: the purchase is already paid.") var paid: String?
        @Option(help: ArgumentHelp("The purchase this credit note corrects (id or unique prefix); needs a negative --amount.", valueName: "purchase-id"))
        var credits: String?
        @Option(help: "Reference (invoice number…).") var ref: String?
        @Flag(help: "Print {\"id\": …} as JSON.") var json = false

        func validate() throws {
            try OptionValues.requireValue(amount, option: "--amount")
            try OptionValues.requireValue(margin, option: "--margin")
            if credits != nil && due != nil {
                throw ValidationError("--due: a credit note has no due date of its own; leave --due out with --credits.")
            }
        }

        func run() async throws {
            try await runCommand(global) { context in
                let date = try ActivityDates.parse(on, option: "--on") ?? ActivityDates.today()
                let paidDate = try ActivityDates.parse(paid, option: "--paid")
                // The Model refuses these too (exit 65); here the message speaks in options.
                if let money = Money(amount) {
                    if money.isNegative && credits == nil {
                        throw CXError(
                            .dataError, "--amount \(amount): a negative amount is a credit note; nothing was recorded",
                            hint: "Give the purchase it corrects: `cx purchase \(id) --amount \(amount) --credits PURCHASE_ID` (see `cx activities \(id)`).")
                    }
                    if !money.isNegative && credits != nil {
                        throw CXError(
                            .dataError, "--amount \(amount): a credit note (--credits) has a negative amount, e.g. -\(money); nothing was recorded")
                    }
                }
                var fields: [String: String?] = ["amount": amount, "margin": margin, "reference": ref, "paid_on": paidDate?.description]
                if credits == nil {
                    fields["due_on"] = (try ActivityDates.parse(due, option: "--due") ?? date.adding(days: 30)).description
                }
                try ActivityDates.create(
                    context, customer: id, type: "purchase", on: date.description, fields: fields, json: json,
                    resolving: { store, customerID in
                        guard let credits else { return [:] }
                        let credited = try CreditedPurchase.resolve(credits, customer: customerID, in: store, context: context)
                        var more: [String: String?] = ["credits": credited.id]
                        if margin == nil, let inherited = credited.margin { more["margin"] = inherited }
                        return more
                    })
            }
        }
    }

    struct Paid: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a purchase as paid.",
            discussion: """
                Examples:
                  cx paid 9b1d22 --on 2026-03-20
                  cx paid 9b1d22                  # paid today
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Purchase id or unique prefix.") var id: String
        @Option(help: "Payment date (default: today).") var on: String?

        func run() async throws {
            try await runCommand(global) { context in
                let date = try ActivityDates.parse(on, option: "--on") ?? ActivityDates.today()
                let store = try context.openStore(exclusive: true)
                defer { store.close() }
                let author = try context.author(in: store)
                let (id, _) = try context.resolve(self.id, in: store, kind: .activity)
                let state = try RecordEditing.modify(id, in: store) { state in
                    guard state.displayedValue("type") == "purchase" else {
                        throw CXError(.usage, "\(Describe.short(id)) is a \(state.displayedValue("type") ?? "activity"), not a purchase")
                    }
                    try state.set("paid_on", to: date.description, by: author)
                }
                try store.compactIfNeeded()
                context.terminal.line("Purchase \(Describe.short(id)) of \(state.displayedValue("amount") ?? "?") marked paid on \(date).")
            }
        }
    }

    struct Referral: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that a customer referred someone; prints its id.",
            discussion: """
                Give the referred customer's id (or prefix) with --referred, or just a name with --name.

                Examples:
                  cx referral 3f2a9c --referred 77e0ab --note "met at the fair"
                  cx referral 3f2a9c --name "Bistro Lyon" --on 2026-02-11
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Customer id or unique prefix (the one who referred).") var id: String
        @Option(help: "Referred customer id or prefix.") var referred: String?
        @Option(help: "Referred person or company name.") var name: String?
        @Option(help: "Date (default: today).") var on: String?
        @Option(help: "Note.") var note: String?
        @Flag(help: "Print {\"id\": …} as JSON.") var json = false

        func validate() throws {
            if (referred == nil) == (name == nil) {
                throw ValidationError("Give exactly one of --referred CUSTOMER_ID or --name NAME.")
            }
        }

        func run() async throws {
            try await runCommand(global) { context in
                try ActivityDates.create(
                    context, customer: id, type: "referral", on: on,
                    fields: ["referred_name": name, "note": note], json: json,
                    resolving: { store, _ in
                        guard let referred else { return [:] }
                        return ["referred_customer_id": try context.resolve(referred, in: store, kind: .customer).id]
                    })
            }
        }
    }

    struct Touch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a touchpoint (visit, call, email, meeting); prints its id.",
            discussion: """
                Examples:
                  cx touch 3f2a9c --channel visit --nps 9 --note "happy with delivery"
                  cx touch 3f2a9c --channel call --on 2026-03-02
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Customer id or unique prefix.") var id: String
        @Option(help: "visit, call, email, meeting or other.") var channel: String
        @Option(help: "Note.") var note: String?
        @Option(parsing: .unconditional, help: "Net promoter score, 0–10.") var nps: String?
        @Option(help: "Date (default: today).") var on: String?
        @Flag(help: "Print {\"id\": …} as JSON.") var json = false

        func validate() throws {
            try OptionValues.requireValue(nps, option: "--nps")
        }

        func run() async throws {
            try await runCommand(global) { context in
                try ActivityDates.create(
                    context, customer: id, type: "touchpoint", on: on,
                    fields: ["channel": channel, "note": note, "nps": nps], json: json)
            }
        }
    }

    struct Activities: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a customer's activities.",
            discussion: """
                Oldest first. JSON: an array of `cx show --json` objects (kind "activity").

                Examples:
                  cx activities 3f2a9c
                  cx activities 3f2a9c --json | jq '[.[] | select(.fields.type=="purchase")]'
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Customer id or unique prefix.") var id: String
        @Flag(help: "Include deleted activities.") var deleted = false
        @Flag(help: "Print a JSON array (the same as --format json).") var json = false
        @Option(help: "table, json or csv (csv: id, the activity fields, tags).") var format: TableFormat?

        func validate() throws {
            if json, let format, format != .json {
                throw ValidationError("--json and --format \(format.rawValue) contradict each other")
            }
        }

        func run() async throws {
            try await runCommand(global) { context in
                let store = try context.openStore(exclusive: false)
                defer { store.close() }
                let (id, _) = try context.resolve(self.id, in: store, kind: .customer)
                var items: [(view: RecordView, bytes: [UInt8])] = []
                for activityID in try store.activityIDs(ofCustomer: id) {
                    guard let bytes = try store.viewBytes(activityID) else { continue }
                    let view = try RecordView(jsonBytes: bytes)
                    if view.deleted && !deleted { continue }
                    items.append((view, bytes))
                }
                items.sort { RecordView.isActivityBefore($0.view, $1.view) }
                let terminal = context.terminal
                if format == .csv {
                    terminal.write(OutputTable(records: items.map(\.view), kind: .activity).csv().utf8)
                    return
                }
                if json || format == .json {
                    terminal.write("[")
                    for (index, item) in items.enumerated() {
                        if index > 0 { terminal.write(",\n") }
                        terminal.write(item.bytes)
                    }
                    terminal.write("]\n")
                    return
                }
                if items.isEmpty {
                    terminal.note("No activities yet: `cx purchase`, `cx referral` and `cx touch` add some.")
                    return
                }
                var table = TextTable(headers: ["DATE", "TYPE", "ID", "DETAILS"])
                for item in items {
                    table.add([item.view.value("on") ?? "", Describe.activityType(item.view), Describe.short(item.view.id),
                               Describe.activityDetails(item.view)])
                }
                for line in table.render(maxWidth: 80, header: { terminal.out($0, .bold) }) { terminal.line(line) }
            }
        }
    }
}
