import ArgumentParser
import CXModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension CX {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List customers.",
            discussion: """
                Deleted customers are hidden unless --deleted is given. Filters combine.
                --status keeps customers with that classification as of today (lead, bad_debt, \
                passer_by, prospect, advocate, customer; see `cx show ID` for the reason).
                JSON: an array of `cx show --json` objects, in id order; with --status they carry \
                "status" (computing it reads every listed customer's activities, so plain `list` \
                leaves it out to stay fast — `cx show ID` always has it).

                Examples:
                  cx list
                  cx list --territory north --json
                  cx list --search acme
                  cx list --conflicted
                  cx list --status bad_debt --territory north
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var asOf: AsOfOption
        @Option(help: "Only customers with this status as of today (lead, bad_debt, passer_by, prospect, advocate, customer).")
        var status: String?
        @Option(help: "Only customers in this territory (exact match).") var territory: String?
        @Option(help: "Only customers of this owner (exact match).") var owner: String?
        @Option(help: "Only customers with TEXT in any field or tag (case-insensitive).") var search: String?
        @Flag(help: "Only customers with conflicts.") var conflicted = false
        @Flag(help: "Include deleted customers.") var deleted = false
        @Flag(help: "Print a JSON array (the same as --format json).") var json = false
        @Option(help: "table, json or csv (csv: id, the customer fields, tags, and status with --status).") var format: TableFormat?

        func validate() throws {
            if json, let format, format != .json {
                throw ValidationError("--json and --format \(format.rawValue) contradict each other")
            }
        }

        func run() async throws {
            try await runCommand(global) { context in
                try asOf.apply(to: context)
                let store = try context.openStore(exclusive: false)
                defer { store.close() }
                try context.checkHomeBeforeReading(store, what: "the list", emptyBook: false)
                var wanted: CustomerStatus?
                if let status {
                    guard let parsed = CustomerStatus(rawValue: status) else {
                        throw CXError(.usage, "'\(status)' is not a customer status",
                                      hint: "Use one of: " + CustomerStatus.allCases.map(\.rawValue).joined(separator: ", ") + ".")
                    }
                    wanted = parsed
                }
                let filter = CustomerFilter(territory: territory, owner: owner, search: search, conflictedOnly: conflicted, includeDeleted: deleted)
                let terminal = context.terminal
                // Status needs each customer's activities (≈ 2 s for 20,000 customers with 100,000
                // purchases), so it is computed only when --status asks for it; plain `list`
                // stays a byte scan of the precomputed views.
                let statuses = try wanted.map {
                    try StatusFilter(store: store, settings: try context.classificationSettings(), today: try context.today(), wanted: $0)
                }
                if json || format == .json {
                    terminal.write("[")
                    var count = 0
                    var buffer: [UInt8] = []
                    try filter.forEachMatch(in: store) { line, _ in
                        if count > 0 && statuses == nil { terminal.write(",\n") }
                        guard let statuses else {
                            terminal.write(line)
                            count += 1
                            return
                        }
                        guard let status = statuses.status(line) else { return }
                        if count > 0 { terminal.write(",\n") }
                        buffer.removeAll(keepingCapacity: true)
                        StatusJSON.insert(into: line, status: status, reason: nil, output: &buffer)
                        terminal.write(buffer)
                        count += 1
                    }
                    terminal.write("]\n")
                    return
                }
                var views: [RecordView] = []
                var statusOf: [String: CustomerStatus] = [:]
                try filter.forEachMatch(in: store) { line, view in
                    var status: CustomerStatus?
                    if let statuses {
                        guard let wantedStatus = statuses.status(line) else { return }
                        status = wantedStatus
                    }
                    let parsed = try view ?? RecordView(jsonBytes: line)
                    statusOf[parsed.id] = status
                    views.append(parsed)
                }
                views.sort { a, b in
                    let x = (a.value("name") ?? "").lowercased(), y = (b.value("name") ?? "").lowercased()
                    return x != y ? x < y : a.id < b.id
                }
                if format == .csv {
                    let table = OutputTable(records: views, kind: .customer, extraColumns: wanted == nil ? [] : ["status"]) { view in
                        wanted == nil ? [] : [statusOf[view.id]?.rawValue]
                    }
                    terminal.write(table.csv().utf8)
                    return
                }
                if views.isEmpty {
                    terminal.note(filter.isEmpty && wanted == nil ? "No customers yet: add one with `cx add --name NAME`, or run `cx sync`." : "No customer matches.")
                    return
                }
                var table = TextTable(headers: ["ID", "NAME", "COMPANY", "TERRITORY", "OWNER"] + (wanted == nil ? [] : ["STATUS"]) + [""])
                for view in views {
                    var flags: [String] = []
                    if !view.conflicts.isEmpty { flags.append(terminal.out("conflict", .yellow)) }
                    if view.deleted { flags.append(terminal.out("deleted", .red)) }
                    table.add([Describe.short(view.id), view.value("name") ?? "", view.value("company") ?? "",
                               view.value("territory") ?? "", view.value("owner") ?? ""]
                              + (wanted == nil ? [] : [statusOf[view.id]?.rawValue ?? ""]) + [flags.joined(separator: " ")])
                }
                for line in table.render(header: { terminal.out($0, .bold) }) { terminal.line(line) }
                terminal.line("\(views.count) customer\(views.count == 1 ? "" : "s")")
            }
        }
    }
}

/// Computes each listed customer's status as of today from the cached activities' facts, and
/// keeps only those with the wanted status.
final class StatusFilter {
    private let book: CustomerBook
    private let classifier: CustomerClassifier
    private let today: CalendarDate
    private let wanted: CustomerStatus?

    init(store: CacheStore, settings: ClassificationSettings, today: CalendarDate, wanted: CustomerStatus?) throws {
        book = try store.customerBook()
        KeptUntilExit.keep(book)
        classifier = CustomerClassifier(settings: settings)
        self.today = today
        self.wanted = wanted
    }

    /// The status of the customer of a view line, or `nil` when it is not the wanted one.
    /// (The figures only: the sentence explaining a status is for `cx show`.)
    func status(_ line: UnsafeBufferPointer<UInt8>) -> CustomerStatus? {
        guard line.count > 43 else { return nil }
        let id = String(decoding: UnsafeBufferPointer(rebasing: line[7..<43]), as: UTF8.self)
        let status = classifier.status(of: id, in: book, asOf: today)
        if let wanted, status != wanted { return nil }
        return status
    }
}

/// The filters of `cx list`, applied to view lines with cheap byte checks first and a full
/// parse only when needed.
struct CustomerFilter {
    var territory: String?
    var owner: String?
    var search: String?
    var conflictedOnly = false
    var includeDeleted = false

    var isEmpty: Bool { territory == nil && owner == nil && search == nil && !conflictedOnly }

    /// Calls `body` with each matching view line (and the parsed view when it was needed).
    func forEachMatch(in store: CacheStore, _ body: (UnsafeBufferPointer<UInt8>, RecordView?) throws -> Void) throws {
        let territoryNeedle = territory.map { Self.fieldNeedle("territory", $0) }
        let ownerNeedle = owner.map { Self.fieldNeedle("owner", $0) }
        let searchLower = search?.lowercased()
        let searchNeedle: [UInt8]? = searchLower.flatMap { text in
            // Prefilter on ASCII-lowercased bytes when the needle needs no escaping.
            guard text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x80 && $0 != 0x22 && $0 != 0x5C }) else { return nil }
            return Array(text.utf8)
        }
        var scratch: [UInt8] = []
        try store.forEachCustomerView { line, deleted in
            if deleted && !includeDeleted { return }
            if let territoryNeedle, !ViewScan.contains(line, territoryNeedle) { return }
            if let ownerNeedle, !ViewScan.contains(line, ownerNeedle) { return }
            if conflictedOnly && !ViewScan.hasConflicts(line) { return }
            guard let searchLower else { return try body(line, nil) }
            if let searchNeedle {
                scratch.removeAll(keepingCapacity: true)
                scratch.append(contentsOf: line)
                for index in scratch.indices where scratch[index] >= 0x41 && scratch[index] <= 0x5A { scratch[index] += 0x20 }
                let found = scratch.withUnsafeBufferPointer { ViewScan.contains($0, searchNeedle) }
                if !found { return }
            }
            let view = try RecordView(jsonBytes: line)
            let matches = view.fields.contains { $0.value.lowercased().contains(searchLower) }
                || view.tags.contains { $0.lowercased().contains(searchLower) }
            if matches { try body(line, view) }
        }
    }

    /// `"field":"value"` as it appears in a view line.
    static func fieldNeedle(_ field: String, _ value: String) -> [UInt8] {
        var w = JSONWriter()
        w.string(field)
        w.byte(UInt8(ascii: ":"))
        w.string(value)
        return w.bytes
    }
}
