import CXModel

/// Local writes shared by the commands: create, modify and delete records in the cache.
enum RecordEditing {
    /// Applies `body` to the current state of `id` and journals the result as pending.
    ///
    /// - Throws: exit 1 when the record is deleted (unless `allowDeleted`).
    @discardableResult
    static func modify(
        _ id: String, in store: CacheStore, allowDeleted: Bool = false, _ body: (inout RecordState) throws -> Void
    ) throws -> RecordState {
        guard var state = try store.state(id) else {
            throw CXError(.failure, "no record \(id) in the cache")
        }
        if state.isDeleted && !allowDeleted {
            throw CXError(.failure, "\(Describe.title(RecordView(state))) (\(Describe.short(id))) is deleted; edits to deleted records are refused",
                          hint: "If the delete was a mistake, a concurrent edit elsewhere or `cx resolve` can keep it.")
        }
        let before = state
        try body(&state)
        if state != before {
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

    /// Parses `KEY=VALUE`.
    static func keyValue(_ text: String) throws -> (String, String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw CXError(.usage, "'\(text)' is not KEY=VALUE", hint: "For example --set extra.source=fair or --set phone=555-0101.")
        }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }
}
