import CXPostgres

extension RecordStore.Writer {
    /// This writer as their token's check stands at access version `current`: unchanged when
    /// nothing changed since the request was authenticated, otherwise with the name and scope
    /// read again (see ``Authentication/confirmed(atVersion:on:)``).
    /// - Throws: ``APIError/unauthorized`` when the token no longer authenticates.
    func confirmed(atVersion current: Int64, on connection: PostgresConnection) throws -> RecordStore.Writer {
        guard let authentication, authentication.accessVersion != current else { return self }
        let fresh = try authentication.confirmed(atVersion: current, on: connection)
        var writer = RecordStore.Writer(userID: fresh.user.id, userName: fresh.user.name, replicaID: replicaID, scope: fresh.user.scope)
        writer.authentication = fresh
        return writer
    }

    /// Whether `other` writes as the same user under the same name (what rows encoded ahead
    /// for this writer name, ``NewRecordWrites/encode(_:by:)``).
    func writesAsSameUser(as other: RecordStore.Writer) -> Bool {
        userID == other.userID && userName == other.userName
    }
}

extension RecordStore {
    /// A push confirmed in its transaction: its writer as ``RecordStore/Writer/confirmed(atVersion:on:)``
    /// gives it, its rows encoded ahead dropped if they name the writer differently, and the
    /// check read again when their access changed (``PushOutcome/authentication``).
    struct ConfirmedPush {
        var prepared: PreparedPush
        var writer: Writer
        var reread: Authentication?
    }

    /// Confirms `prepared`, pushed by `writer`, at access version `version`.
    /// - Throws: ``APIError/unauthorized`` when the writer's token no longer authenticates.
    static func confirm(
        _ prepared: PreparedPush, by writer: Writer, atVersion version: Int64, on connection: PostgresConnection
    ) throws -> ConfirmedPush {
        let confirmed = try writer.confirmed(atVersion: version, on: connection)
        var push = ConfirmedPush(prepared: prepared, writer: confirmed)
        if confirmed.authentication?.accessVersion != writer.authentication?.accessVersion {
            push.reread = confirmed.authentication
        }
        if !confirmed.writesAsSameUser(as: writer) { push.prepared.encodedInserts = [:] }
        return push
    }
}
