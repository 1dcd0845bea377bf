import CXModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The settings of one `cx` installation, stored in `config.json` (the token separately, in
/// `token` with mode 0600).
public struct Configuration: Sendable, Equatable {
    /// This installation's replica id, made once by `cx init`.
    public var replicaID: String
    /// The server URL, e.g. `http://127.0.0.1:8080`.
    public var server: String?
    /// The user name the server knows the token by (writes carry it).
    public var user: String?
    /// The classification keys as written in the file (`window_days`, `target_margin`,
    /// `grace_days` → their raw JSON text), kept verbatim and validated by
    /// ``classificationSettings()`` so a bad value only stops the commands that need it.
    public var classificationKeys: [String: String]

    /// The configuration keys of classification, shared with the server's `cx.settings`.
    public static let classificationKeyNames = ["window_days", "target_margin", "grace_days"]

    public init(replicaID: String, server: String? = nil, user: String? = nil, classificationKeys: [String: String] = [:]) {
        self.replicaID = replicaID
        self.server = server
        self.user = user
        self.classificationKeys = classificationKeys
    }

    /// The classification settings: `window_days` (whole days ≥ 1, default 365), `target_margin`
    /// (a fraction in [-1, 1] with at most 4 places, default 0.10), `grace_days` (whole days ≥ 0,
    /// default 0). Numbers may be written as JSON numbers or strings.
    ///
    /// - Throws: exit 65 naming the key and the expected form when a value is invalid.
    public func classificationSettings(file: String = "config.json") throws -> ClassificationSettings {
        var settings = ClassificationSettings.default
        func text(_ key: String) -> String? {
            guard var raw = classificationKeys[key]?.trimmingCharacters(in: " \n\r\t") else { return nil }
            if raw == "null" { return nil }
            if raw.count >= 2, raw.hasPrefix("\""), raw.hasSuffix("\"") { raw = String(raw.dropFirst().dropLast()) }
            return raw
        }
        func invalid(_ key: String, _ expected: String) -> CXError {
            CXError(.dataError, "the configuration file \(file) has an invalid \(key): \(classificationKeys[key] ?? "")",
                    hint: "Set \(key) to \(expected), or remove it to use the default.")
        }
        if let value = text("window_days") {
            guard let days = Int(value), days >= 1, days <= 36_500 else { throw invalid("window_days", "a whole number of days ≥ 1 (default 365)") }
            settings.windowDays = days
        }
        if let value = text("target_margin") {
            guard let margin = DecimalText(value), margin.isWithinUnitRange else {
                throw invalid("target_margin", "a fraction between -1 and 1 with at most 4 decimals, e.g. 0.10 (default)")
            }
            settings.targetMargin = margin
        }
        if let value = text("grace_days") {
            guard let days = Int(value), days >= 0, days <= 36_500 else { throw invalid("grace_days", "a whole number of days ≥ 0 (default 0)") }
            settings.graceDays = days
        }
        return settings
    }

    /// A new random replica id: `<short-hostname>-<8 hex digits>`.
    public static func newReplicaID() -> String {
        var host = POSIX.shortHostName().lowercased().unicodeScalars.filter {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
        }.map(String.init).joined()
        if host.isEmpty { host = "cx" }
        if host.count > 40 { host = String(host.prefix(40)) }
        var generator = SystemRandomNumberGenerator()
        let hex = String(UInt32.random(in: 0...UInt32.max, using: &generator), radix: 16)
        return host + "-" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Reads the configuration; `nil` when the installation has not been initialised.
    public static func load(_ paths: Paths) throws -> Configuration? {
        guard let bytes = try POSIX.readFile(paths.configFile) else { return nil }
        var replica: String?
        var server: String?
        var user: String?
        var classification: [String: String] = [:]
        do {
            try JSONScanner.scan(bytes) { scanner throws(JSONScanner.Failure) in
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    switch key {
                    case "replica_id": replica = try scanner.consumeNull() ? nil : scanner.string()
                    case "server": server = try scanner.consumeNull() ? nil : scanner.string()
                    case "user": user = try scanner.consumeNull() ? nil : scanner.string()
                    case "window_days", "target_margin", "grace_days":
                        classification[key] = String(decoding: try scanner.rawValue(), as: UTF8.self)
                    default: try scanner.skipValue()
                    }
                }
                try scanner.expectEnd()
            }
        } catch {
            throw CXError(.failure, "the configuration file \(paths.configFile) is not valid JSON (\(error))",
                          hint: "Fix or remove it, then run `cx init` again.")
        }
        guard let replica, ReplicaID.isValid(replica) else {
            throw CXError(.failure, "the configuration file \(paths.configFile) has no valid replica_id",
                          hint: "Run `cx init` to create one.")
        }
        return Configuration(replicaID: replica, server: server, user: user, classificationKeys: classification)
    }

    /// Writes the configuration atomically.
    public func save(_ paths: Paths) throws {
        try POSIX.makeDirectories(paths.configDirectory)
        var w = JSONWriter()
        w.raw("{\n  \"replica_id\": ")
        w.string(replicaID)
        w.raw(",\n  \"server\": ")
        w.optionalString(server)
        w.raw(",\n  \"user\": ")
        w.optionalString(user)
        for key in Self.classificationKeyNames {
            guard let raw = classificationKeys[key] else { continue }
            w.raw(",\n  ")
            w.string(key)
            w.raw(": ")
            w.rawJSON(Array(raw.utf8))
        }
        w.raw("\n}\n")
        try POSIX.writeAtomically(w.bytes, to: paths.configFile, mode: 0o644)
    }

    /// Reads the stored token, if any.
    public static func loadToken(_ paths: Paths) throws -> String? {
        guard let bytes = try POSIX.readFile(paths.tokenFile) else { return nil }
        let token = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: " \n\r\t")
        return token.isEmpty ? nil : token
    }

    /// Stores the token in its own file with mode 0600.
    public static func saveToken(_ token: String, _ paths: Paths) throws {
        try POSIX.makeDirectories(paths.configDirectory)
        try POSIX.writeAtomically(Array((token + "\n").utf8), to: paths.tokenFile, mode: 0o600)
    }
}

/// The server and token a command uses, after applying the precedence
/// flag > environment (`CX_SERVER`, `CX_TOKEN`) > configuration files.
public struct ServerSettings: Sendable, Equatable {
    public var server: String?
    public var token: String?

    public static func resolve(
        serverFlag: String?, tokenFlag: String?, environment: [String: String],
        configuration: Configuration?, storedToken: String?
    ) -> ServerSettings {
        func nonEmpty(_ value: String?) -> String? {
            guard let value, !value.isEmpty else { return nil }
            return value
        }
        return ServerSettings(
            server: nonEmpty(serverFlag) ?? nonEmpty(environment["CX_SERVER"]) ?? nonEmpty(configuration?.server),
            token: nonEmpty(tokenFlag) ?? nonEmpty(environment["CX_TOKEN"]) ?? nonEmpty(storedToken))
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let scalars = Set(set.unicodeScalars)
        let view = unicodeScalars
        guard let start = view.firstIndex(where: { !scalars.contains($0) }) else { return "" }
        let end = view.lastIndex(where: { !scalars.contains($0) })!
        return String(view[start...end])
    }
}
