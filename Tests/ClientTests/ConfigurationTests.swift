import Foundation
import Testing
@testable import CXClient

@Suite struct ConfigurationTests {
    @Test func homeFlagWinsOverEnvironmentAndXDG() {
        let env = ["HOME": "/home/a", "CX_HOME": "/env/cx", "XDG_CONFIG_HOME": "/xdg/config", "XDG_DATA_HOME": "/xdg/data"]
        #expect(Paths.resolve(home: "/flag", environment: env) == Paths(configDirectory: "/flag", dataDirectory: "/flag"))
        #expect(Paths.resolve(home: nil, environment: env) == Paths(configDirectory: "/env/cx", dataDirectory: "/env/cx"))
        var xdg = env
        xdg["CX_HOME"] = nil
        #expect(Paths.resolve(home: nil, environment: xdg) == Paths(configDirectory: "/xdg/config/cx", dataDirectory: "/xdg/data/cx"))
        #expect(Paths.resolve(home: nil, environment: ["HOME": "/home/a"])
            == Paths(configDirectory: "/home/a/.config/cx", dataDirectory: "/home/a/.local/share/cx"))
    }

    @Test func serverAndTokenPrecedence() {
        let configuration = Configuration(replicaID: "r", server: "http://config", user: nil)
        let env = ["CX_SERVER": "http://env", "CX_TOKEN": "env-token"]
        let all = ServerSettings.resolve(serverFlag: "http://flag", tokenFlag: "flag-token", environment: env,
                                         configuration: configuration, storedToken: "stored")
        #expect(all == ServerSettings(server: "http://flag", token: "flag-token"))
        let noFlags = ServerSettings.resolve(serverFlag: nil, tokenFlag: nil, environment: env, configuration: configuration, storedToken: "stored")
        #expect(noFlags == ServerSettings(server: "http://env", token: "env-token"))
        let onlyConfig = ServerSettings.resolve(serverFlag: nil, tokenFlag: nil, environment: [:], configuration: configuration, storedToken: "stored")
        #expect(onlyConfig == ServerSettings(server: "http://config", token: "stored"))
    }

    @Test func configurationRoundTripsAndTokenIsPrivate() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let paths = Paths(configDirectory: dir.path + "/conf", dataDirectory: dir.path + "/data")
        #expect(try Configuration.load(paths) == nil)
        let configuration = Configuration(replicaID: Configuration.newReplicaID(), server: "http://x:1", user: "alice")
        try configuration.save(paths)
        #expect(try Configuration.load(paths) == configuration)
        try Configuration.saveToken("cx_secret", paths)
        #expect(try Configuration.loadToken(paths) == "cx_secret")
        let attributes = try FileManager.default.attributesOfItem(atPath: paths.tokenFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(configuration.replicaID.range(of: "^[a-z0-9-]+-[0-9a-f]{8}$", options: .regularExpression) != nil)
    }
}
