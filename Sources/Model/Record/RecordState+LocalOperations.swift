extension RecordState {
    /// Creates a new record written by `author`, validating every field and tag.
    ///
    /// - Parameters:
    ///   - kind: customer or activity.
    ///   - id: the record id (a new random UUID by default).
    ///   - fields: field values (`nil` entries are ignored).
    ///   - tags: initial tags.
    ///   - author: the replica, user and time of the write.
    /// - Throws: ``RecordValidationError`` for an unknown field, a bad value, or a record missing a
    ///   required field.
    public static func new(
        kind: RecordKind, id: String = RecordID.random(), fields: [String: String?], tags: [String] = [],
        by author: Author
    ) throws(RecordValidationError) -> RecordState {
        guard let canonicalID = RecordID.canonical(id) else {
            throw RecordValidationError(field: "id", "'\(id)' is not a record id (a UUID)")
        }
        var state = RecordState(id: canonicalID, kind: kind, clock: VersionVector(), fields: [], tags: [], deletion: [])
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            guard let value else { continue }
            try state.set(name, to: value, by: author)
        }
        for tag in tags {
            try state.addTag(tag, by: author)
        }
        try state.validateComplete()
        return state
    }

    /// Writes `value` to `field` (`nil` unsets it), superseding every entry this replica has
    /// seen for the field, conflicting ones included.
    /// - Throws: ``RecordValidationError`` for an unknown field or an invalid value.
    public mutating func set(_ field: String, to value: String?, by author: Author) throws(RecordValidationError) {
        let canonical = try Schema.normalize(value, for: field, in: kind)
        let dot = clock.mint(author)
        let entry = FieldEntry(value: canonical, dot: dot, at: author.at, user: author.user)
        let register = FieldRegister(name: field, entries: [entry])
        if let index = fieldIndex(field) {
            fields[index] = register
        } else {
            let insertion = fields.firstIndex(where: { $0.name > field }) ?? fields.endIndex
            fields.insert(register, at: insertion)
        }
    }

    /// Resolves a conflict on `field` by writing `value`, which supersedes every candidate.
    ///
    /// For the pseudo-field `deleted` (a delete concurrent with edits) the value is `keep` or
    /// `delete`.
    /// - Throws: ``RecordValidationError`` for an invalid value.
    public mutating func resolve(_ field: String, to value: String?, by author: Author) throws(RecordValidationError) {
        if field == RecordState.deletedPseudoField {
            switch value {
            case "keep": restore(by: author)
            case "delete": delete(by: author)
            default: throw RecordValidationError(field: field, "resolve a delete conflict with 'keep' or 'delete'")
            }
            return
        }
        try set(field, to: value, by: author)
    }

    /// Adds `tag` (add-wins: a concurrent remove elsewhere does not cancel this add).
    /// - Throws: ``RecordValidationError`` for an empty or overlong tag.
    public mutating func addTag(_ tag: String, by author: Author) throws(RecordValidationError) {
        let tag = try Schema.normalizeTag(tag)
        let dot = clock.mint(author)
        if let index = tags.firstIndex(where: { $0.tag == tag }) {
            // The new add subsumes the adds seen so far; keeping one dot keeps states small.
            tags[index].dots = [dot]
        } else {
            let insertion = tags.firstIndex(where: { $0.tag > tag }) ?? tags.endIndex
            tags.insert(TagRegister(tag: tag, dots: [dot]), at: insertion)
        }
    }

    /// Removes `tag`: every add this replica has seen is dropped; concurrent adds survive.
    ///
    /// The clock still advances so the removal is a change that gets pushed.
    public mutating func removeTag(_ tag: String, by author: Author) {
        clock.mint(author)
        tags.removeAll { $0.tag == tag }
    }

    /// Deletes the record with a tombstone that remembers everything seen so far.
    ///
    /// Field values stay in place: an edit made concurrently elsewhere turns into a
    /// keep-or-delete conflict instead of being lost.
    public mutating func delete(by author: Author) {
        let seen = clock
        let dot = clock.mint(author)
        deletion = [RegisterEntry(value: DeletionMark(deleted: true, seen: seen), dot: dot, at: author.at, user: author.user)]
    }

    /// Restores a deleted (or delete-conflicted) record, superseding every tombstone seen.
    public mutating func restore(by author: Author) {
        let dot = clock.mint(author)
        deletion = [
            RegisterEntry(value: DeletionMark(deleted: false, seen: VersionVector()), dot: dot, at: author.at, user: author.user)
        ]
    }

    /// Checks that the record has what its kind requires (``validateRequiredFields()``) and
    /// that its amount and `credits` agree (``validateCreditNote()``): the record-level rules
    /// every write is held to, on a laptop, on the server's sync push and in SQL writes.
    public func validateComplete() throws(RecordValidationError) {
        try validateRequiredFields()
        try validateCreditNote()
    }

    /// Checks the rules of credit notes and zero-value orders, on displayed values:
    /// - a purchase's amount may be 0 (a zero-value order) or positive;
    /// - a negative amount is allowed only on a purchase with `credits` set — a credit note,
    ///   naming the purchase it corrects — and a purchase with `credits` has a negative amount;
    /// - `credits` is a purchase's field only, and never the record's own id.
    ///
    /// Whether `credits` names a purchase of the same customer cannot be checked on one record
    /// (the purchase may reach this replica later); `cx purchase --credits` checks it locally.
    public func validateCreditNote() throws(RecordValidationError) {
        guard kind == .activity else { return }
        let credits = displayedValue("credits")
        guard displayedValue("type") == "purchase" else {
            if credits != nil {
                throw RecordValidationError(
                    field: "credits", "only a purchase can credit a purchase (a credit note); unset credits or make the activity a purchase")
            }
            return
        }
        guard let amount = displayedValue("amount").flatMap(Money.init) else { return }
        if let credits {
            if credits == id {
                throw RecordValidationError(field: "credits", "a credit note cannot credit itself; give the purchase it corrects")
            }
            if !amount.isNegative {
                throw RecordValidationError(
                    field: "amount", "'\(amount)' is not a credit note's amount: a purchase that credits another has a negative amount, e.g. -20.00")
            }
        } else if amount.isNegative {
            throw RecordValidationError(
                field: "amount", "'\(amount)' is negative: only a credit note has a negative amount; set credits to the purchase it corrects")
        }
    }

    /// Checks that the record has what its kind requires: a customer's name; an activity's
    /// customer, type and date, and the fields its type needs.
    public func validateRequiredFields() throws(RecordValidationError) {
        func has(_ field: String) -> Bool { displayedValue(field) != nil }
        switch kind {
        case .customer:
            guard has("name") else { throw RecordValidationError(field: "name", "a customer needs a name") }
        case .activity:
            for field in ["customer_id", "type", "on"] where !has(field) {
                throw RecordValidationError(field: field, "an activity needs \(field)")
            }
            switch displayedValue("type") {
            case "purchase":
                guard has("amount") else { throw RecordValidationError(field: "amount", "a purchase needs an amount") }
            case "touchpoint":
                guard has("channel") else { throw RecordValidationError(field: "channel", "a touchpoint needs a channel") }
            case "referral":
                guard has("referred_customer_id") || has("referred_name") else {
                    throw RecordValidationError(field: "referred_name", "a referral needs the referred customer or a name")
                }
            default:
                break
            }
        }
    }
}
