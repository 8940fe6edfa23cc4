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
            cSettings: [.define("_GNU_SOURCE"), .unsafeFlags(["-O2"])]
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

        // The one executable: thin.
        .executableTarget(
            name: "wick",
            dependencies: [
                "WickStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "WickStoreTests", dependencies: ["WickStore", "CWickLinux"]),
    ]
)

// The settings of swift-log, the strictest of the server packages: applied to every Swift target.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    settings.append(.enableUpcomingFeature("NonisolatedNonsendingByDefault"))
    settings.append(.unsafeFlags(["-Xfrontend", "-require-explicit-sendable"]))
    target.swiftSettings = settings
}
