/// Where a `cx` installation keeps its configuration and its cache.
///
/// `--home DIR` (or `CX_HOME`) puts both in one directory; otherwise the configuration lives in
/// `$XDG_CONFIG_HOME/cx` (default `~/.config/cx`) and the cache in `$XDG_DATA_HOME/cx`
/// (default `~/.local/share/cx`).
public struct Paths: Sendable, Equatable {
    /// Holds `config.json` and `token`.
    public var configDirectory: String
    /// Holds `cache/`.
    public var dataDirectory: String

    public init(configDirectory: String, dataDirectory: String) {
        self.configDirectory = configDirectory
        self.dataDirectory = dataDirectory
    }

    /// The configuration file.
    public var configFile: String { configDirectory + "/config.json" }
    /// The token file (mode 0600).
    public var tokenFile: String { configDirectory + "/token" }
    /// The cache directory.
    public var cacheDirectory: String { dataDirectory + "/cache" }

    /// Resolves the locations from the `--home` flag and the environment.
    public static func resolve(home: String?, environment: [String: String]) -> Paths {
        if let home = home ?? environment["CX_HOME"], !home.isEmpty {
            let home = absolute(home, environment: environment)
            return Paths(configDirectory: home, dataDirectory: home)
        }
        let userHome = environment["HOME"] ?? "/"
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? userHome + "/.config"
        let data = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? userHome + "/.local/share"
        return Paths(configDirectory: absolute(config, environment: environment) + "/cx",
                     dataDirectory: absolute(data, environment: environment) + "/cx")
    }

    private static func absolute(_ path: String, environment: [String: String]) -> String {
        var path = path
        if path.hasPrefix("~/"), let home = environment["HOME"] {
            path = home + path.dropFirst()
        }
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        if path.hasPrefix("/") { return path }
        let cwd = environment["PWD"] ?? currentDirectory()
        return cwd + "/" + path
    }

    private static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
