extension SyncScope: Encodable {
    private enum CodingKeys: String, CodingKey { case user, role, territories }

    /// `{"role","territories","user"}` for documents written with `Codable` (`cx status
    /// --json`); `user` only when known, as ``encode(into:)`` writes it (a cached scope has
    /// none). The sync reply writes scope with its own writer.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(user, forKey: .user)
        try container.encode(role.rawValue, forKey: .role)
        try container.encode(territories, forKey: .territories)
    }
}
