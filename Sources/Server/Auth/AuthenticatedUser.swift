/// The user behind a request's bearer token.
public struct AuthenticatedUser: Sendable, Hashable {
    /// Database id.
    public let id: Int64
    /// User name (shown beside the values they wrote).
    public let name: String
    /// Role.
    public let role: UserRole
    /// The id of the token used.
    public let tokenID: Int64
    /// What the user may read and write, as it stood when the token was checked (read in the
    /// same statement, so a request sees one consistent view of its user).
    let scope: AccessScope
}
