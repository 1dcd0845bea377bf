/// A lookup from a field name to what the schema says about it, for the handful of fixed
/// names a record kind has.
///
/// Every field entry of every decoded state is looked up here; a `Dictionary<String, _>` hashed
/// each name (SipHash over its bytes), which cost more than the comparison it leads to. Names
/// are grouped by their UTF-8 length instead, so a lookup is one length and, for the few names
/// that share it, a byte comparison each.
struct FieldNameTable<Value> {
    private var byLength: [[(name: String, value: Value)]] = []

    init(_ pairs: some Sequence<(String, Value)>) {
        for (name, value) in pairs {
            let length = name.utf8.count
            if byLength.count <= length { byLength += Array(repeating: [], count: length + 1 - byLength.count) }
            byLength[length].append((name, value))
        }
    }

    /// The value of `name`, or `nil` when it is not in the table.
    subscript(name: String) -> Value? {
        let length = name.utf8.count
        guard length < byLength.count else { return nil }
        // Names here are ASCII, so `==` (canonical equivalence) is byte equality.
        for entry in byLength[length] where entry.name == name { return entry.value }
        return nil
    }
}

extension FieldNameTable: Sendable where Value: Sendable {}
