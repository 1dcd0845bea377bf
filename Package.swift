// swift-tools-version:6.1
import PackageDescription

/// Settings shared by every target: Swift 6 language mode comes from the tools version;
/// these upcoming features keep imports and existentials explicit.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "cx",
    // `cx` (Sources/Client, Sources/cx) and CXModel build on Linux and macOS 14+: field
    // laptops are Macs. Their platform calls are guarded (`#if canImport(Glibc) … #elseif
    // canImport(Darwin)`), which `scripts/check-portability` enforces before every test run.
    // cx-server (CXServer, CXPostgres) is Linux-first: it is deployed and tested on Debian with
    // the system's PostgreSQL (initdb/pg_ctl, libpq via pkg-config); on macOS it may build with
    // Homebrew's libpq but is not tested there.
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cx", targets: ["cx"]),
        .executable(name: "cx-server", targets: ["cx-server"]),
        .executable(name: "cx-bench", targets: ["cx-bench"]),
        .library(name: "CXModel", targets: ["CXModel"]),
    ],
    // No swift-crypto: the server's one digest (token hashes) is `Sources/Server/Auth/SHA256.swift`,
    // which saves compiling a second copy of BoringSSL (docs/benchmarks.md, "First build").
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/yaslab/CSV.swift.git", from: "2.5.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        // MARK: Civil calendar — proleptic Gregorian day arithmetic, shared by the Model's dates
        // and the PostgreSQL driver's timestamps.
        .target(
            name: "CXCivilCalendar",
            path: "Sources/CivilCalendar",
            swiftSettings: swiftSettings
        ),

        // MARK: Model — pure Swift, no I/O.
        .target(
            name: "CXModel",
            dependencies: ["CXCivilCalendar"],
            path: "Sources/Model",
            swiftSettings: swiftSettings
        ),

        // MARK: Sample data — seeded books for benchmarks, tests and demos (not part of the Model's API).
        .target(
            name: "CXSampleData",
            dependencies: ["CXModel"],
            path: "Sources/SampleData",
            swiftSettings: swiftSettings
        ),

        // MARK: PostgreSQL — libpq and the Swift layer over it.
        .systemLibrary(
            name: "CLibPQ",
            path: "Sources/CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "CXPostgres",
            dependencies: [
                "CLibPQ",
                "CXCivilCalendar",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Sources/Postgres",
            swiftSettings: swiftSettings
        ),

        // MARK: Embedded PostgreSQL — a private cluster run with the machine's initdb/pg_ctl.
        .target(
            name: "CXEmbeddedPostgres",
            dependencies: [
                "CXPostgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Sources/EmbeddedPostgres",
            swiftSettings: swiftSettings
        ),

        // MARK: Server — the sync API over PostgreSQL.
        .target(
            name: "CXServer",
            dependencies: [
                "CXModel",
                "CXPostgres",
                "CXEmbeddedPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Server",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "cx-server",
            dependencies: ["CXServer", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/cx-server",
            swiftSettings: swiftSettings
        ),

        // MARK: Client — the offline-first CLI.
        .target(
            name: "CXClient",
            dependencies: [
                "CXModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Sources/Client",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "cx",
            dependencies: ["CXClient", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/cx",
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks — `swift run -c release cx-bench <mode>`.
        .executableTarget(
            name: "cx-bench",
            dependencies: [
                "CXModel",
                "CXSampleData",
                "CXPostgres",
                "CXEmbeddedPostgres",
                "CXServer",
                "CXClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/cx-bench",
            swiftSettings: swiftSettings
        ),

        // MARK: Fault injection — `swift run cx-fault --help`; drives the real `cx` and `cx-server`.
        .executableTarget(
            name: "cx-fault",
            dependencies: ["CXSampleData", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/cx-fault",
            swiftSettings: swiftSettings
        ),

        // MARK: Fuzzing — `scripts/fuzz` builds these with libFuzzer (-sanitize=fuzzer,address
        // -D CX_LIBFUZZER) into .build-fuzz; a normal build makes them replay the files given as
        // arguments instead (e.g. `.build/debug/FuzzCSV Fuzz/corpus/FuzzCSV`).
        .target(
            name: "CXFuzzSupport",
            path: "Sources/Fuzz/Support",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzStateDecoder",
            dependencies: ["CXFuzzSupport", "CXModel"],
            path: "Sources/Fuzz/FuzzStateDecoder",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzSyncEnvelope",
            dependencies: ["CXFuzzSupport", "CXModel", "CXServer", "CXClient"],
            path: "Sources/Fuzz/FuzzSyncEnvelope",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzJournal",
            dependencies: ["CXFuzzSupport", "CXClient"],
            path: "Sources/Fuzz/FuzzJournal",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzCSV",
            dependencies: ["CXFuzzSupport", "CXClient"],
            path: "Sources/Fuzz/FuzzCSV",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "CXModelTests",
            dependencies: [
                "CXModel",
                "CXSampleData",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/ModelTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CXPostgresTests",
            dependencies: [
                "CXPostgres",
                "CXEmbeddedPostgres",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/PostgresTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CXServerTests",
            dependencies: [
                "CXServer",
                "CXModel",
                "CXSampleData",
                "CXPostgres",
                "CXEmbeddedPostgres",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/ServerTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CXClientTests",
            dependencies: [
                "CXClient",
                "CXModel",
                "CXSampleData",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/ClientTests",
            swiftSettings: swiftSettings
        ),
        // Drives the real `cx` and `cx-server` binaries (built by `swift build`) end to end.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["CXModel", "CXSampleData"],
            path: "Tests/EndToEndTests",
            swiftSettings: swiftSettings
        ),
    ]
)
