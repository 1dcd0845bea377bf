import CXModel
import CXPostgres

/// Users, their territories and their access tokens.
///
/// User and territory names are identities compared byte for byte in SQL: every function here
/// takes names as typed and stores and looks them up in Unicode Normalization Form C (see
/// ``canonical(_:)``), the same spelling the Model's `Schema` gives a customer's `territory`.
/// Names are case-sensitive ("North" and "north" are two territories); ``caseVariants(of:on:)``
/// finds near-duplicates so the admin commands can warn about them.
struct UserStore: Sendable {
    /// The one stored spelling of a user or territory name: NFC.
    static func canonical(_ name: String) -> String {
        UnicodeNormalization.nfc(name)
    }

    /// For each of `territories` (in any normalisation), the existing territory names — held by
    /// a user or set on a customer — that differ from it only in letter case.
    static func caseVariants(of territories: [String], on connection: PostgresConnection) throws -> [String: [String]] {
        guard !territories.isEmpty else { return [:] }
        let existing = try connection.query(
            """
            SELECT territory FROM cx.user_territories WHERE removed_at IS NULL
            UNION SELECT DISTINCT territory FROM cx.customers WHERE territory IS NOT NULL AND NOT deleted
            """
        ).map { try $0.decode("territory", as: String.self) }
        var variants: [String: [String]] = [:]
        for territory in Set(territories.map(canonical)) {
            let folded = territory.lowercased()
            let similar = existing.filter { $0.lowercased() == folded && !$0.utf8.elementsEqual(territory.utf8) }
            if !similar.isEmpty { variants[territory] = Array(Set(similar)).sorted() }
        }
        return variants
    }

    /// A user as the admin commands list it.
    struct User: Sendable {
        let id: Int64
        let name: String
        let role: UserRole
        let territories: [String]
    }

    /// An issued token's public facts (never the token itself).
    /// Times are whole seconds since 1970 (UTC); commands show them in local time.
    struct TokenInfo: Sendable {
        let prefix: String
        let user: String
        let createdAt: Int64
        let expiresAt: Int64?
        let revokedAt: Int64?
        let lastUsedAt: Int64?
    }

    /// Creates a user; fails with ``AdminError`` if the name is taken.
    @discardableResult
    static func addUser(_ name: String, role: UserRole, territories: [String], on connection: PostgresConnection) throws -> User {
        try connection.transaction { connection in
            try insertUser(name, role: role, territories: territories, on: connection)
        }
    }

    /// Inserts a user inside the caller's transaction.
    @discardableResult
    static func insertUser(_ name: String, role: UserRole, territories: [String], on connection: PostgresConnection) throws -> User {
        let name = canonical(name), territories = territories.map(canonical)
        let existing = try connection.query("SELECT 1 FROM cx.users WHERE name = \(name)")
        guard existing.isEmpty else {
            throw AdminError("a user named '\(name)' already exists")
        }
        let rows = try connection.query(
            "INSERT INTO cx.users (name, role) VALUES (\(name), \(role.rawValue)) RETURNING id")
        let id = try rows[0].decode("id", as: Int64.self)
        for territory in Set(territories) {
            try connection.query("INSERT INTO cx.user_territories (user_id, territory) VALUES (\(id), \(territory))")
        }
        return User(id: id, name: name, role: role, territories: Array(Set(territories)).sorted())
    }

    /// The user named `name`, if any.
    static func user(named name: String, on connection: PostgresConnection) throws -> User? {
        let name = canonical(name)
        let rows = try connection.query(
            """
            SELECT u.id, u.role, coalesce(array_to_string(array_agg(t.territory ORDER BY t.territory) FILTER (WHERE t.territory IS NOT NULL), E'\\n'), '') AS territories
            FROM cx.users u LEFT JOIN cx.user_territories t ON t.user_id = u.id AND t.removed_at IS NULL
            WHERE u.name = \(name) GROUP BY u.id, u.role
            """)
        guard let row = rows.first else { return nil }
        let territories = try row.decode("territories", as: String.self)
        return User(
            id: try row.decode("id", as: Int64.self), name: name,
            role: UserRole(rawValue: try row.decode("role", as: String.self)) ?? .rep,
            territories: territories.isEmpty ? [] : territories.split(separator: "\n").map(String.init))
    }

    /// Every user with their current territories, by name.
    static func users(on connection: PostgresConnection) throws -> [User] {
        try connection.query(
            """
            SELECT u.id, u.name, u.role,
                   coalesce(array_to_string(array_agg(t.territory ORDER BY t.territory) FILTER (WHERE t.territory IS NOT NULL), E'\\n'), '') AS territories
            FROM cx.users u LEFT JOIN cx.user_territories t ON t.user_id = u.id AND t.removed_at IS NULL
            GROUP BY u.id, u.name, u.role ORDER BY u.name
            """
        ).map { row in
            let territories = try row.decode("territories", as: String.self)
            return User(
                id: try row.decode("id", as: Int64.self), name: try row.decode("name", as: String.self),
                role: UserRole(rawValue: try row.decode("role", as: String.self)) ?? .rep,
                territories: territories.isEmpty ? [] : territories.split(separator: "\n").map(String.init))
        }
    }

    /// Gives `userName` the `territories` (again, if they were removed); returns the user after.
    static func addTerritories(_ territories: [String], to userName: String, on connection: PostgresConnection) throws -> User {
        let territories = territories.map(canonical)
        return try connection.transaction { connection in
            let user = try existingUser(userName, on: connection)
            for territory in Set(territories) {
                try connection.query(
                    """
                    INSERT INTO cx.user_territories (user_id, territory) VALUES (\(user.id), \(territory))
                    ON CONFLICT (user_id, territory) DO UPDATE
                    SET added_at = CASE WHEN cx.user_territories.removed_at IS NULL THEN cx.user_territories.added_at ELSE now() END,
                        removed_at = NULL
                    """)
            }
            return try existingUser(userName, on: connection)
        }
    }

    /// Takes `territories` from `userName`. The rows stay, marked removed, so the user can still
    /// push the edits they made offline during the hand-off window. Fails if the user does not
    /// hold one of them.
    static func removeTerritories(_ territories: [String], from userName: String, on connection: PostgresConnection) throws -> User {
        let territories = territories.map(canonical)
        return try connection.transaction { connection in
            let user = try existingUser(userName, on: connection)
            let missing = Set(territories).subtracting(user.territories).sorted()
            guard missing.isEmpty else {
                throw AdminError(
                    "'\(userName)' does not hold \(missing.joined(separator: ", ")) (holds: \(user.territories.isEmpty ? "none" : user.territories.joined(separator: ", ")))")
            }
            for territory in Set(territories) {
                try connection.query(
                    "UPDATE cx.user_territories SET removed_at = now() WHERE user_id = \(user.id) AND territory = \(territory) AND removed_at IS NULL")
            }
            return try existingUser(userName, on: connection)
        }
    }

    /// Changes `userName`'s role; returns the user after.
    static func setRole(_ role: UserRole, of userName: String, on connection: PostgresConnection) throws -> User {
        let user = try existingUser(userName, on: connection)
        try connection.query("UPDATE cx.users SET role = \(role.rawValue) WHERE id = \(user.id)")
        return User(id: user.id, name: user.name, role: role, territories: user.territories)
    }

    private static func existingUser(_ name: String, on connection: PostgresConnection) throws -> User {
        guard let user = try user(named: name, on: connection) else {
            throw AdminError("no user named '\(name)'; list users with `cx-server user list`")
        }
        return user
    }

    /// How many users exist.
    static func userCount(on connection: PostgresConnection) throws -> Int {
        try connection.query("SELECT count(*) AS n FROM cx.users")[0].decode("n", as: Int.self)
    }

    /// Issues a new token for `userName`; returns the token text, which is shown once.
    static func issueToken(for userName: String, expiresInDays: Int? = nil, on connection: PostgresConnection) throws -> String {
        guard let user = try user(named: userName, on: connection) else {
            throw AdminError("no user named '\(userName)'; create one with `cx-server user add \(userName)`")
        }
        let token = AccessToken.generate()
        try connection.query(
            """
            INSERT INTO cx.tokens (user_id, prefix, hash, expires_at)
            VALUES (\(user.id), \(token.prefix), \(token.hash), now() + make_interval(days => \(expiresInDays)))
            """)
        return token.text
    }

    /// Revokes the token given in full or by its prefix; returns how many were revoked.
    static func revokeToken(_ tokenOrPrefix: String, on connection: PostgresConnection) throws -> Int {
        let prefix = String(tokenOrPrefix.prefix(AccessToken.marker.count + AccessToken.prefixLength))
        guard prefix.hasPrefix(AccessToken.marker), prefix.count == AccessToken.marker.count + AccessToken.prefixLength else {
            throw AdminError("'\(tokenOrPrefix)' is not a token or token prefix (cx_ followed by 12 hex digits)")
        }
        return try connection.query(
            "UPDATE cx.tokens SET revoked_at = now() WHERE prefix = \(prefix) AND revoked_at IS NULL"
        ).affectedRows
    }

    /// Lists tokens without revealing them.
    static func tokens(on connection: PostgresConnection) throws -> [TokenInfo] {
        try connection.query(
            """
            SELECT t.prefix, u.name, floor(extract(epoch FROM t.created_at))::bigint AS created_at,
                   floor(extract(epoch FROM t.expires_at))::bigint AS expires_at,
                   floor(extract(epoch FROM t.revoked_at))::bigint AS revoked_at,
                   floor(extract(epoch FROM t.last_used_at))::bigint AS last_used_at
            FROM cx.tokens t JOIN cx.users u ON u.id = t.user_id ORDER BY t.created_at, t.id
            """
        ).map {
            TokenInfo(
                prefix: try $0.decode("prefix", as: String.self), user: try $0.decode("name", as: String.self),
                createdAt: try $0.decode("created_at", as: Int64.self), expiresAt: try $0.decode("expires_at", as: Int64?.self),
                revokedAt: try $0.decode("revoked_at", as: Int64?.self), lastUsedAt: try $0.decode("last_used_at", as: Int64?.self))
        }
    }

    /// The user a presented bearer token belongs to, if it is valid, unrevoked and unexpired,
    /// with their scope (see ``authentication(of:on:)``).
    static func authenticate(_ presented: String, on connection: PostgresConnection) throws -> AuthenticatedUser? {
        guard let token = AccessToken(presented: presented) else { return nil }
        return try authentication(of: token, on: connection)?.user
    }

    /// The check of `token`, if it is valid, unrevoked and unexpired: its user with their scope
    /// — their role, current territories, and the territories removed within the hand-off
    /// window (setting `handoff_days`) — the access version it was read at, and how long it
    /// holds if nothing in the database changes (until the token expires or a hand-off ends).
    ///
    /// One statement reads all of it (a row per territory, the token's columns repeated), since
    /// every authenticated request needs it; the token's `last_used_at` is written at most once
    /// a minute, so busy clients don't turn reads into writes.
    static func authentication(of token: AccessToken, on connection: PostgresConnection) throws -> Authentication? {
        let rows = try connection.query(
            """
            SELECT t.id AS token_id, t.hash, u.id AS user_id, u.name, u.role,
                   (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute') AS used_long_ago,
                   extract(epoch FROM t.expires_at - now())::float8 AS token_seconds_left,
                   k.territory, k.removed_at IS NULL AS held,
                   extract(epoch FROM k.removed_at - cx.handoff_since())::float8 AS handoff_seconds_left,
                   (SELECT version FROM cx.access_version) AS access_version
            FROM cx.tokens t JOIN cx.users u ON u.id = t.user_id
            LEFT JOIN cx.user_territories k ON k.user_id = u.id AND u.role <> 'admin'
                 AND (k.removed_at IS NULL OR k.removed_at > cx.handoff_since())
            WHERE t.prefix = \(token.prefix) AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
            """, preparedAs: "cx_authentication")
        guard let row = rows.first else { return nil }
        let stored = try row.decode("hash", as: [UInt8].self)
        guard AccessToken.constantTimeEquals(stored, token.hash) else { return nil }
        let tokenID = try row.decode("token_id", as: Int64.self)
        if try row.decode("used_long_ago", as: Bool.self) {
            try connection.query(
                """
                UPDATE cx.tokens SET last_used_at = now()
                WHERE id = \(tokenID) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
                """)
        }
        let role = UserRole(rawValue: try row.decode("role", as: String.self)) ?? .rep
        var held: Set<String> = []
        var handedOff: Set<String> = []
        // The check holds until the token expires or the first hand-off ends, whichever is first.
        var secondsLeft = try row.decode("token_seconds_left", as: Double?.self)
        for row in rows {
            guard let territory = try row.decode("territory", as: String?.self) else { continue }
            if try row.decode("held", as: Bool.self) {
                held.insert(territory)
            } else {
                handedOff.insert(territory)
                if let left = try row.decode("handoff_seconds_left", as: Double?.self) { secondsLeft = min(secondsLeft ?? left, left) }
            }
        }
        let user = AuthenticatedUser(
            id: try row.decode("user_id", as: Int64.self), name: try row.decode("name", as: String.self),
            role: role, tokenID: tokenID,
            scope: role == .admin
                ? AccessScope(role: .admin, territories: [], handoffTerritories: [])
                : AccessScope(role: role, territories: held, handoffTerritories: handedOff))
        return Authentication(
            user: user, token: token, accessVersion: try row.decode("access_version", as: Int64.self),
            holdsFor: secondsLeft.map { .milliseconds(Int64((max(0, $0) * 1000).rounded(.down))) })
    }
}
