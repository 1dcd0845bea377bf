import CXModel

/// Plain-language renderings of records and conflicts for human output.
public enum Describe {
    /// A record's title: a customer's name, or an activity's type and date.
    public static func title(_ view: RecordView) -> String {
        if view.kind == .customer { return view.value("name") ?? "(no name)" }
        return "\(activityType(view)) on \(view.value("on") ?? "?")"
    }

    /// An activity's type in words: `credit note` for a purchase that credits another, else its
    /// `type` (`purchase`, `referral`, `touchpoint`).
    public static func activityType(_ view: RecordView) -> String {
        let type = view.value("type") ?? "activity"
        return type == "purchase" && view.value("credits") != nil ? "credit note" : type
    }

    /// The first 8 characters of an id.
    public static func short(_ id: String) -> String { String(id.prefix(8)) }

    /// `2026-11-20 10:02` (local time) from a canonical timestamp.
    public static func time(_ at: String) -> String {
        guard let timestamp = Timestamp(at) else { return at }
        return POSIX.localDateTime(millisecondsSinceEpoch: timestamp.millisecondsSinceEpoch)
    }

    /// `'555-0101' set by alice on alice-laptop 2026-11-20 10:02`.
    public static func candidate(_ candidate: RecordView.Candidate, field: String) -> String {
        let who = (candidate.user.map { "by \($0) " } ?? "") + "on \(candidate.replica) \(time(candidate.at))"
        if field == RecordState.deletedPseudoField {
            if candidate.value == "delete" { return "delete (deleted \(who))" }
            return "keep (edited \(who))"
        }
        guard let value = candidate.value else { return "unset \(who)" }
        return "'\(value.replacingNewlines())' set \(who)"
    }

    /// `phone: '555-0101' set by alice on …; '555-0199' set by bob on …`.
    public static func conflict(_ conflict: RecordView.Conflict) -> String {
        let field = conflict.field == RecordState.deletedPseudoField ? "deleted vs edited" : conflict.field
        return "\(field): " + conflict.candidates.enumerated().map { "[\($0.offset + 1)] " + candidate($0.element, field: conflict.field) }
            .joined(separator: "; ")
    }

    /// The command that resolves `conflict`.
    public static func resolveHint(id: String, _ conflict: RecordView.Conflict) -> String {
        let picks = (1...Swift.max(1, conflict.candidates.count)).map(String.init).joined(separator: "|")
        if conflict.field == RecordState.deletedPseudoField {
            return "cx resolve \(short(id)) deleted --value keep|delete"
        }
        return "cx resolve \(short(id)) \(conflict.field) --pick \(picks)   (or --value V)"
    }

    /// One line summarising an activity.
    public static func activityDetails(_ view: RecordView) -> String {
        var parts: [String] = []
        switch view.value("type") {
        case "purchase":
            let amount = view.value("amount")
            if let amount { parts.append(amount) }
            if let credited = view.value("credits") { parts.append("credit note for \(short(credited))") }
            if let margin = view.value("margin") { parts.append("margin \(margin)") }
            if let due = view.value("due_on") { parts.append("due \(due)") }
            if let paid = view.value("paid_on") {
                parts.append("paid \(paid)")
            } else if let amount, let money = Money(amount), money.isPositive {
                parts.append("unpaid")
            } else if amount.flatMap(Money.init) == .zero {
                parts.append("zero-value order")
            }
            if let reference = view.value("reference") { parts.append("ref \(reference)") }
        case "referral":
            if let name = view.value("referred_name") { parts.append("referred \(name)") }
            if let id = view.value("referred_customer_id") { parts.append("referred customer \(short(id))") }
        case "touchpoint":
            if let channel = view.value("channel") { parts.append(channel) }
            if let nps = view.value("nps") { parts.append("nps \(nps)") }
        default:
            break
        }
        if let note = view.value("note") { parts.append("“\(note.replacingNewlines())”") }
        if view.deleted { parts.append("(deleted)") }
        if !view.conflicts.isEmpty { parts.append("(conflict)") }
        return parts.joined(separator: ", ")
    }

    /// The human `show` output.
    public static func show(_ view: RecordView, terminal: Terminal) -> [String] {
        var lines: [String] = []
        // The record kind in words ("customer record"), so it does not read like the status
        // `customer` printed below it.
        lines.append(terminal.out(title(view), .bold) + "  " + terminal.out("(\(view.kind.rawValue) record)", .dim))
        var rows: [(String, String)] = [("id", view.id)]
        let order = Schema.fields(of: view.kind).map(\.name)
        for name in order { if let value = view.value(name) { rows.append((name, value)) } }
        for field in view.fields where !order.contains(field.name) { rows.append((field.name, field.value)) }
        if !view.tags.isEmpty { rows.append(("tags", view.tags.joined(separator: ", "))) }
        let width = rows.map(\.0.count).max() ?? 0
        for (name, value) in rows {
            let valueLines = value.split(separator: "\n", omittingEmptySubsequences: false)
            lines.append("  " + name + String(repeating: " ", count: width - name.count + 2) + (valueLines.first.map(String.init) ?? ""))
            for more in valueLines.dropFirst() {
                lines.append("  " + String(repeating: " ", count: width + 2) + more)
            }
        }
        if view.deleted { lines.append(terminal.out("  This record is deleted.", .red)) }
        if !view.conflicts.isEmpty {
            lines.append(terminal.out("  Conflicts:", .yellow))
            for conflict in view.conflicts {
                lines.append("    " + Self.conflict(conflict))
                lines.append("      resolve: " + resolveHint(id: view.id, conflict))
            }
        }
        return lines
    }

    /// `  Status today: advocate (classification) — 3 purchases in the last 365 days, …`: the
    /// status is marked as a classification, so the status `customer` does not read like the
    /// record kind.
    /// With `asOf` (`--as-of`), the line says `Status on 2025-03-31:` instead.
    public static func statusLine(_ assessment: CustomerClassifier.Assessment, asOf: CalendarDate? = nil, terminal: Terminal) -> String {
        "  Status \(asOf.map { "on \($0)" } ?? "today"): " + terminal.out(assessment.status.rawValue, .bold) + " (classification) — "
            + assessment.reason
    }
}
