import CXModel

/// What a user may see and do: the role the sync reply's scope reports
/// (``SyncScope/Role``, shared with `cx`).
public typealias UserRole = SyncScope.Role
