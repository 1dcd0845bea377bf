import CXModel

/// Local writes shared by the commands: create, modify and delete records in the cache.
enum RecordEditing {
    /// Applies `body` to the current state of `id` and journals the result as pending.
    ///
    /// The result must be a state the server accepts: a complete record (a purchase keeps its
    /// amount, a touchpoint its channel…), checked with the same `validateComplete()` the server
    /// runs. Otherwise nothing is written; a pending incomplete state would make every later
    /// `cx sync` fail on it.
    ///
    /// - Throws: exit 1 when the record is deleted (unless `allowDeleted`); exit 65 when the
    ///   edited record would be incomplete.
    @discardableResult
    static func modify(
        _ id: String, in store: CacheStore, allowDeleted: Bool = false, _ body: (inout RecordState) throws -> Void
    ) throws -> RecordState {
        guard var state = try store.state(id) else {
            throw CXError(.failure, "no record \(id) in the cache")
        }
        if state.isDeleted && !allowDeleted, let survivor = state.mergedInto {
            throw CXError(.failure, "\(Describe.title(RecordView(state))) (\(Describe.short(id))) was merged into \(Describe.short(survivor)); edits to it are refused",
                          hint: "Edit the survivor instead (`cx show \(Describe.short(survivor))`).")
        }
        if state.isDeleted && !allowDeleted {
            throw CXError(.failure, "\(Describe.title(RecordView(state))) (\(Describe.short(id))) is deleted; edits to deleted records are refused",
                          hint: "If the delete was a mistake, a concurrent edit elsewhere or `cx resolve` can keep it.")
        }
        let before = state
        try body(&state)
        if state != before {
            try requireComplete(state)
            try store.commit([CacheStore.Change(state: state, pending: true)])
        }
        return state
    }

    /// Creates a record and journals it as pending.
    static func create(
        kind: RecordKind, fields: [String: String?], tags: [String] = [], author: Author, in store: CacheStore
    ) throws -> RecordState {
        let state = try RecordState.new(kind: kind, fields: fields, tags: tags, by: author)
        try store.commit([CacheStore.Change(state: state, pending: true)])
        return state
    }

    /// Throws exit 65, naming the record, the missing field and the way to fix it, unless
    /// `state` is complete (what the server's sync checks for every pushed state).
    static func requireComplete(_ state: RecordState) throws {
        do throws(RecordValidationError) {
            try state.validateCreditNote()
        } catch {
            let title = "\(Describe.title(RecordView(state))) (\(Describe.short(state.id)))"
            throw CXError(
                .dataError, "\(title): \(error.description); nothing was changed",
                hint: "A negative amount is a credit note's: record one with `cx purchase CUSTOMER --amount -20.00 --credits PURCHASE_ID`.")
        }
        do throws(RecordValidationError) {
            try state.validateRequiredFields()
        } catch {
            let title = "\(Describe.title(RecordView(state))) (\(Describe.short(state.id)))"
            let field = error.field ?? "the field"
            throw CXError(
                .dataError, "\(title) would be incomplete: \(error.message); nothing was changed",
                hint: "The server refuses incomplete records. Give \(field) a value instead (`cx edit \(Describe.short(state.id)) --set \(field)=VALUE`).")
        }
    }

    /// Parses `KEY=VALUE`.
    static func keyValue(_ text: String) throws -> (String, String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw CXError(.usage, "'\(text)' is not KEY=VALUE", hint: "For example --set extra.source=fair or --set phone=555-0101.")
        }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }
}
