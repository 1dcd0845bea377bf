import CXModel

/// The customers already in the cache, by name, so `cx import` can recognise a row without an
/// `id` that an earlier import of the same file (or anything else) already created.
///
/// A row *matches* a customer when every cell the row sets has the same value in the customer
/// (after the same normalisation a new record gets) and the customer has every tag of the row.
/// Fields the row leaves empty, and fields edited since, do not matter: re-running an import
/// (for instance one killed right after it committed) creates nothing twice, even after the
/// imported customers were edited. Such rows are skipped with a warning unless
/// `--allow-duplicates` is given.
struct ImportDuplicateIndex {
    private var byName: [String: [RecordView]] = [:]

    /// Reads every customer view of `store` that is not deleted.
    init(store: CacheStore) throws {
        try store.forEachCustomerView { line, deleted in
            guard !deleted else { return }
            let view = try RecordView(jsonBytes: line)
            guard let name = view.value("name") else { return }
            byName[name.lowercased(), default: []].append(view)
        }
    }

    /// The existing customer `state` (a row about to be created) duplicates, if any.
    ///
    /// - Parameters:
    ///   - state: The new customer the row would create.
    ///   - fields: The fields the row sets (a default such as the owner does not count).
    func existing(matching state: RecordState, fields: some Sequence<String>) -> RecordView? {
        guard let name = state.displayedValue("name"), let candidates = byName[name.lowercased()] else { return nil }
        let fields = Array(fields)
        let tags = state.tagNames
        return candidates.first { view in
            fields.allSatisfy { view.value($0) == state.displayedValue($0) } && tags.allSatisfy { view.tags.contains($0) }
        }
    }
}
