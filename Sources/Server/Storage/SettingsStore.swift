import CXPostgres

/// The server settings in `cx.settings`: customer classification (`window_days`,
/// `target_margin`, `grace_days`, the same keys as the `cx` config file) and the scope hand-off
/// window (`handoff_days`).
enum SettingsStore {
    /// Every setting, by key in alphabetical order.
    static func all(on connection: PostgresConnection) throws -> [(key: String, value: String)] {
        try connection.query("SELECT key, value FROM cx.settings ORDER BY key").map {
            (try $0.decode("key", as: String.self), try $0.decode("value", as: String.self))
        }
    }

    /// Sets `key` to `value` (already validated by the caller); returns whether the key exists.
    @discardableResult
    static func set(_ key: String, to value: String, on connection: PostgresConnection) throws -> Bool {
        try connection.query("UPDATE cx.settings SET value = \(value) WHERE key = \(key)").affectedRows == 1
    }
}
