/// What a user may see and do.
public enum UserRole: String, Sendable, CaseIterable {
    /// A field sales rep.
    case rep
    /// A manager overseeing several territories.
    case manager
    /// Sees everything and administers the server.
    case admin
}
