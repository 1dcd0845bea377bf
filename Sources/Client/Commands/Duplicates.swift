import ArgumentParser
import CXModel

extension CX {
    struct Duplicates: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List likely duplicate customers.",
            discussion: """
                Works offline, over the customers in the local cache (deleted ones left out). A pair \
                is listed when the two have the same email (ASCII letters compared without case), \
                the same phone (the last 9 digits, when it has at least 7: a leading +/00 and \
                country code or a trunk 0 do not matter), or similar names in the same city (city \
                words compared without case or punctuation; names share at least half of their \
                trigrams, the measure of PostgreSQL's pg_trgm). The SQL view \
                cx.duplicate_candidates lists the same pairs from the server's data.

                Merge a pair with `cx merge KEEP_ID DROP_ID`.

                JSON: an array of {"customer_id","customer_name","duplicate_id","duplicate_name",
                "reasons":["email"|"phone"|"name"…],"name_similarity": 0.615 or null (same city only)}, ordered
                by customer_id, then duplicate_id (customer_id < duplicate_id).

                Examples:
                  cx duplicates
                  cx duplicates --json | jq -r '.[] | "\\(.customer_id) \\(.duplicate_id)"'
                """)

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            try await runCommand(global) { context in
                let store = try context.openStore(exclusive: false)
                var candidates: [DuplicateFinder.Candidate] = []
                do {
                    defer { store.close() }
                    try store.forEachCustomerView { bytes, deleted in
                        guard !deleted else { return }
                        let view = try RecordView(jsonBytes: bytes)
                        candidates.append(
                            .init(id: view.id, name: view.value("name") ?? "", email: view.value("email"),
                                  phone: view.value("phone"), city: view.value("city")))
                    }
                }
                let pairs = DuplicateFinder.pairs(candidates)
                let terminal = context.terminal
                if json {
                    var w = JSONWriter()
                    w.byte(UInt8(ascii: "["))
                    for (index, pair) in pairs.enumerated() {
                        if index > 0 { w.byte(UInt8(ascii: ",")) }
                        w.raw("{\"customer_id\":")
                        w.string(pair.first.id)
                        w.raw(",\"customer_name\":")
                        w.string(pair.first.name)
                        w.raw(",\"duplicate_id\":")
                        w.string(pair.second.id)
                        w.raw(",\"duplicate_name\":")
                        w.string(pair.second.name)
                        w.raw(",\"reasons\":[")
                        for (position, reason) in pair.reasons.enumerated() {
                            if position > 0 { w.byte(UInt8(ascii: ",")) }
                            w.string(reason.rawValue)
                        }
                        w.raw("],\"name_similarity\":")
                        w.rawJSON((pair.similarityText ?? "null").utf8)
                        w.byte(UInt8(ascii: "}"))
                    }
                    w.byte(UInt8(ascii: "]"))
                    CommandOutput.printJSON(w.bytes, terminal: terminal)
                    return
                }
                if pairs.isEmpty {
                    terminal.line("No likely duplicates among \(candidates.count) customer\(candidates.count == 1 ? "" : "s").")
                    return
                }
                var table = TextTable(headers: ["CUSTOMER", "NAME", "DUPLICATE", "NAME", "REASONS", "SIMILARITY"])
                for pair in pairs {
                    table.add([
                        Describe.short(pair.first.id), pair.first.name, Describe.short(pair.second.id), pair.second.name,
                        pair.reasons.map(\.rawValue).joined(separator: ", "), pair.similarityText ?? "",
                    ])
                }
                for line in table.render(header: { terminal.out($0, .bold) }) { terminal.line(line) }
                terminal.line("\(pairs.count) likely duplicate pair\(pairs.count == 1 ? "" : "s"); merge one with `cx merge KEEP_ID DROP_ID`.")
            }
        }
    }
}
