// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "wick",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wick", targets: ["wick"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // Thin shims over Debian's libzstd-dev and liblmdb-dev, and a few Linux calls Glibc's overlay lacks.
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        .target(
            name: "CWickLinux",
            cSettings: [.define("_GNU_SOURCE"), .unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("z"), .linkedLibrary("zstd"), .linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),

        // The segment log and its LMDB index. Knows nothing of Langfuse: records are opaque bytes with keys.
        .target(
            name: "WickStore",
            dependencies: [
                "CZstd", "CLMDB", "CWickLinux",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [
                .define("ENABLE_MOCKING", .when(configuration: .debug)),
                .define("WICK_INTERNAL_CHECKS", .when(configuration: .debug)),
            ]
        ),

        // Validating byte-level JSON scanner, JSON values and writer, ISO 8601 timestamps. No I/O.
        .target(name: "WickJSON"),

        // Langfuse's event model: event types, envelope validation, reject reasons. No I/O.
        .target(name: "WickModel", dependencies: ["WickJSON"]),

        // Swift generated from OTLP's protobuf schema by scripts/gen-otlp-proto (committed; never edited).
        .target(
            name: "WickOTLPProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),

        // OTLP trace exports (protobuf and JSON) to Langfuse events and back (reference §2). No I/O.
        .target(
            name: "WickOTLP",
            dependencies: ["WickJSON", "WickModel", "WickOTLPProto", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),

        // Unix stream, UDP and Unix datagram listeners: line framing, validation, batching into the store.
        .target(
            name: "WickIngest",
            dependencies: [
                "WickJSON", "WickModel", "WickStore", "CWickLinux",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Background services over the log: the trace assembler (later compaction and retention).
        .target(
            name: "WickPipeline",
            dependencies: [
                "WickJSON", "WickModel", "WickStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Replay into a central server: cursors, batches, backoff, over plain HTTP.
        .target(
            name: "WickReplay",
            dependencies: [
                "WickJSON", "WickModel", "WickOTLP", "WickStore", "WickIngest", "CWickLinux",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The HTTP servers (Hummingbird): metrics, and the Langfuse-compatible API.
        .target(
            name: "WickHTTP",
            dependencies: [
                "WickIngest", "WickStore", "WickJSON", "WickModel", "WickPipeline", "WickOTLP", "CWickLinux",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Configuration and the composition root: builds the service group `wick serve` runs.
        .target(
            name: "WickDaemon",
            dependencies: [
                "WickJSON", "WickModel", "WickStore", "WickIngest", "WickPipeline", "WickHTTP", "WickReplay", "CWickLinux",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),

        // The one executable: thin.
        .executableTarget(
            name: "wick",
            dependencies: [
                "WickDaemon", "WickStore", "WickJSON", "WickIngest", "WickModel", "WickPipeline", "WickHTTP", "WickReplay", "CWickLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // libFuzzer targets (docs/fuzzing.md); a plain build links them as programs that do nothing.
        .executableTarget(name: "FuzzSegmentReader", dependencies: ["WickStore"], path: "Fuzz/FuzzSegmentReader"),
        .executableTarget(name: "FuzzJSONScanner", dependencies: ["WickJSON"], path: "Fuzz/FuzzJSONScanner"),

        // Benchmarks: release builds, run by their own commands (BENCHMARKS.md), never by the tests.
        .executableTarget(name: "JSONBench", dependencies: ["WickJSON"], path: "Benchmarks/JSONBench"),
        .executableTarget(
            name: "StoreBench",
            dependencies: ["WickStore", "WickIngest", "WickJSON", "WickModel", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/StoreBench"
        ),
        .executableTarget(
            name: "TraceBench",
            dependencies: ["WickPipeline", "WickModel", "WickStore", "WickJSON"],
            path: "Benchmarks/TraceBench"
        ),

        .executableTarget(name: "OTLPBench", dependencies: ["WickOTLP", "WickIngest", "WickJSON", "WickStore"], path: "Benchmarks/OTLPBench"),

        // Spawned by the crash tests, killed with SIGKILL mid-write.
        .executableTarget(
            name: "wick-test-writer",
            dependencies: ["WickStore", "CWickLinux", .product(name: "Logging", package: "swift-log")],
            path: "Tests/Tools/wick-test-writer"
        ),
        // What every test target shares: temporary directories, a quiet logger, a seeded generator.
        .target(
            name: "WickTestSupport",
            dependencies: ["WickJSON", "WickModel", .product(name: "Logging", package: "swift-log")],
            path: "Tests/WickTestSupport"
        ),
        .testTarget(name: "WickStoreTests", dependencies: ["WickStore", "CWickLinux", "WickTestSupport"]),
        .testTarget(name: "WickJSONTests", dependencies: ["WickJSON", "WickTestSupport"]),
        .testTarget(name: "WickModelTests", dependencies: ["WickModel", "WickJSON", "WickTestSupport"]),
        .testTarget(name: "WickOTLPTests", dependencies: ["WickOTLP", "WickOTLPProto", "WickModel", "WickJSON", "WickTestSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .testTarget(
            name: "WickPipelineTests",
            dependencies: ["WickPipeline", "WickModel", "WickStore", "WickIngest", "WickJSON", "WickTestSupport",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "WickIngestTests",
            dependencies: [
                "WickIngest", "WickModel", "WickStore", "WickJSON", "WickTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "WickDaemonTests", dependencies: ["WickDaemon", "WickIngest", "WickPipeline", "WickReplay", "WickStore", "WickJSON", "WickModel", "CWickLinux", "WickTestSupport"]),
    ]
)

// The settings of swift-log, the strictest of the server packages: applied to every Swift target.
for target in package.targets where target.type != .system && target.name != "WickOTLPProto" {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    settings.append(.enableUpcomingFeature("NonisolatedNonsendingByDefault"))
    settings.append(.unsafeFlags(["-Xfrontend", "-require-explicit-sendable"]))
    target.swiftSettings = settings
}
