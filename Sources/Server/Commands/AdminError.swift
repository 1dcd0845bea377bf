/// A refused administrative action, with what to do instead.
struct AdminError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) {
        self.description = description
    }
}
