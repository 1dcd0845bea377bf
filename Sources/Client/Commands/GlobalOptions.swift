import ArgumentParser
import CXModel

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Directory holding configuration and cache together (default: $CX_HOME, else the XDG directories).",
            valueName: "dir"))
    var home: String?
}

/// `--server` and `--token`, for commands that talk to the server.
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Server URL (overrides $CX_SERVER and the configuration).", valueName: "url"))
    var server: String?

    @Option(name: .long, help: ArgumentHelp("Access token (overrides $CX_TOKEN and the stored token).", valueName: "token"))
    var token: String?
}

/// `--retry-for`, for commands that talk to the server.
struct RetryOptions: ParsableArguments {
    @Option(
        name: .customLong("retry-for"), parsing: .unconditional,
        help: ArgumentHelp(
            "Keep retrying an unreachable server for up to this many seconds (default: 3 quick retries; also $CX_RETRY_FOR; 0: no retry).",
            valueName: "seconds"))
    var retryFor: Double?

    func validate() throws {
        if let retryFor, !(retryFor >= 0 && retryFor.isFinite) {
            throw ValidationError("--retry-for takes a number of seconds ≥ 0, e.g. --retry-for 60.")
        }
    }
}

/// What a running command needs: locations, configuration, terminal.
final class CommandContext {
    let paths: Paths
    let environment: [String: String]
    let terminal: Terminal
    private var loadedConfiguration: Configuration??
    /// The date an insight command looks from (`--as-of`), instead of today.
    var asOf: CalendarDate?

    init(_ global: GlobalOptions) {
        environment = ProcessEnvironment.current
        paths = Paths.resolve(home: global.home, environment: environment)
        terminal = Terminal(environment: environment)
    }

    /// The stored configuration, if `cx init` ran.
    func configuration() throws -> Configuration? {
        if let loadedConfiguration { return loadedConfiguration }
        let loaded = try Configuration.load(paths)
        loadedConfiguration = .some(loaded)
        return loaded
    }

    /// The configuration, or an error telling the user to run `cx init`.
    func requireConfiguration() throws -> Configuration {
        guard let configuration = try configuration() else {
            throw CXError(.failure, "this cx home (\(paths.configDirectory)) is not initialised",
                          hint: "Run `cx init --server URL --token TOKEN` (or plain `cx init` to work offline first).")
        }
        return configuration
    }

    /// Who makes a local write now in `store`: the cache's replica incarnation (made on first
    /// use, and anew when the cache was copied or restored), the user, and the counter floor
    /// that keeps the incarnation's counters growing across records.
    func author(in store: CacheStore) throws -> Author {
        let configuration = try requireConfiguration()
        guard store.isExclusive else {
            // A dry run writes nothing; the author only validates.
            return Author(replica: store.replica?.id ?? configuration.replicaID, user: configuration.user, at: .now())
        }
        let incarnation = try store.incarnation(base: configuration.replicaID)
        return Author(replica: incarnation.id, user: configuration.user, at: .now(), counterFloor: incarnation.counter)
    }

    /// Opens the cache (shared for reading, exclusive for writing) and reports load warnings.
    ///
    /// A read (`exclusive: false`) of a home that does not exist at all — most likely a
    /// mistyped `--home` — is an error (exit 1) rather than an empty answer ("No conflicts.").
    func openStore(exclusive: Bool) throws -> CacheStore {
        if !exclusive { try requireHome() }
        let store = try CacheStore.open(directory: paths.cacheDirectory, exclusive: exclusive)
        for warning in store.warnings { terminal.warn(warning) }
        return store
    }

    /// Classification settings from the configuration (defaults when not initialised).
    func classificationSettings() throws -> ClassificationSettings {
        try configuration()?.classificationSettings(file: paths.configFile) ?? .default
    }

    /// Today (UTC) — or the `--as-of` date of the command, or `$CX_TODAY` (YYYY-MM-DD, a test
    /// hook for reproducible output) when set.
    func today() throws -> CalendarDate {
        if let asOf { return asOf }
        if let text = environment["CX_TODAY"], !text.isEmpty {
            guard let date = CalendarDate(text) else { throw CXError(.usage, "CX_TODAY='\(text)' is not a date (YYYY-MM-DD)") }
            return date
        }
        return CalendarDate(Timestamp.now())
    }

    /// Server and token after precedence (flag > environment > configuration).
    func serverSettings(_ options: ServerOptions?) throws -> ServerSettings {
        ServerSettings.resolve(
            serverFlag: options?.server, tokenFlag: options?.token, environment: environment,
            configuration: try configuration(), storedToken: try Configuration.loadToken(paths))
    }

    /// A client for the configured server and token; a usage or permission error names what
    /// is missing. Call `shutdown()` on it when done.
    ///
    /// - Parameters:
    ///   - retry: `--retry-for`, which overrides `$CX_RETRY_FOR` and the standard retries.
    ///   - quiet: No retry progress even on a terminal (`--quiet`).
    ///   - unreachableHint: What to advise when the server stays unreachable: a sync keeps local
    ///     changes; a read only needs to be run again.
    func syncClient(
        _ options: ServerOptions?, retry: RetryOptions? = nil, quiet: Bool = false,
        unreachableHint: String = SyncClient.syncUnreachableHint
    ) throws -> SyncClient {
        let settings = try serverSettings(options)
        guard let server = settings.server else {
            throw CXError(.usage, "no server configured",
                          hint: "Run `cx init --server URL --token TOKEN`, or set CX_SERVER.")
        }
        guard let token = settings.token else {
            throw CXError(.permission, "no token configured",
                          hint: "Run `cx init --token TOKEN`, or set CX_TOKEN.")
        }
        let policy = try RetryPolicy.resolve(flag: retry?.retryFor, environment: environment)
        // Retry progress only on a terminal: a script's stderr stays quiet until the error.
        var observer: (@Sendable (RetryNotice) -> Void)?
        if !quiet && POSIX.isTerminal(2) {
            let shown = (try? SyncClient.normalize(server)) ?? server
            observer = { notice in POSIX.writeStderr("\r\u{1B}[2K" + notice.line(server: shown) + "\n") }
        }
        return try SyncClient(
            server: server, token: token, retrier: Retrier(policy: policy, observer: observer), unreachableHint: unreachableHint)
    }
}

/// The process environment, read once.
enum ProcessEnvironment {
    static var current: [String: String] {
        var result: [String: String] = [:]
        var pointer = POSIX.environment
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

/// Runs a command body, turning thrown errors into a message on stderr and the contract's
/// exit code.
func runCommand(_ global: GlobalOptions, _ body: (CommandContext) async throws -> Void) async throws {
    let context = CommandContext(global)
    do {
        try await body(context)
        context.terminal.flush()
    } catch let error as ExitCode {
        context.terminal.flush()
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        context.terminal.flush()
        let failure = CXError.from(error)
        context.terminal.error(failure)
        throw ExitCode(failure.code.rawValue)
    }
}

extension CommandContext {
    /// Resolves an id or unique prefix (≥ 6 characters) to a cached record.
    ///
    /// - Throws: exit 64 for a short, malformed or ambiguous prefix (listing the matches);
    ///   exit 1 when nothing matches; exit 64 when the record is not of `kind`.
    func resolve(_ text: String, in store: CacheStore, kind: RecordKind? = nil) throws -> (id: String, kind: RecordKind) {
        try IDResolver.resolve(text, in: store, kind: kind)
    }
}

/// Id prefix resolution, shared by every command that takes an id.
public enum IDResolver {
    public static let minimumPrefix = 6

    public static func resolve(_ text: String, in store: CacheStore, kind: RecordKind? = nil) throws -> (id: String, kind: RecordKind) {
        let prefix = text.lowercased()
        guard prefix.count >= minimumPrefix else {
            throw CXError(.usage, "'\(text)' is too short to identify a record",
                          hint: "Give at least \(minimumPrefix) characters of the id (see `cx list`).")
        }
        guard prefix.count <= 36, prefix.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) || $0 == "-" }) else {
            throw CXError(.usage, "'\(text)' is not a record id", hint: "Ids look like 3f2a9c1e-…; `cx list` shows them.")
        }
        var matches = try store.ids(withPrefix: prefix)
        if let kind, matches.count > 1 {
            let ofKind = try matches.filter { try store.kind(of: $0) == kind }
            if !ofKind.isEmpty { matches = ofKind }
        }
        guard !matches.isEmpty else {
            throw CXError(.failure, "no record matches '\(text)'", hint: "`cx list` shows the customers in the cache; `cx sync` fetches new ones.")
        }
        guard matches.count == 1 else {
            var lines: [String] = []
            for id in matches.prefix(10) {
                let name = try store.viewBytes(id).flatMap { try? RecordView(jsonBytes: $0) }.map(Describe.title) ?? ""
                lines.append("  \(id)  \(name)")
            }
            throw CXError(.usage, "'\(text)' matches \(matches.count) records:\n" + lines.joined(separator: "\n"),
                          hint: "Give more characters of the id.")
        }
        let id = matches[0]
        guard let found = try store.kind(of: id) else {
            throw CXError(.failure, "no record matches '\(text)'")
        }
        if let kind, found != kind {
            throw CXError(.usage, "\(id) is \(found == .customer ? "a customer" : "an activity"), not \(kind == .customer ? "a customer" : "an activity")")
        }
        return (id, found)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
