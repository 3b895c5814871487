// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "mufakat",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MufakatCore", targets: ["MufakatCore"]),
        .library(name: "MufakatSync", targets: ["MufakatSync"]),
        .library(name: "MufakatWire", targets: ["MufakatWire"]),
        .library(name: "MufakatStore", targets: ["MufakatStore"]),
        .library(name: "MufakatHub", targets: ["MufakatHub"]),
        .library(name: "MufakatClient", targets: ["MufakatClient"]),
        .executable(name: "mufakat", targets: ["mufakat"]),
        .executable(name: "mufakat-hub", targets: ["mufakat-hub"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/yaslab/CSV.swift.git", from: "2.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // No default traits: swift-configuration and full Foundation are not needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
    ],
    targets: [
        .target(
            name: "MufakatCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "MufakatCoreTests",
            dependencies: [
                "MufakatCore", "MufakatTesting",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .target(
            name: "MufakatSync",
            dependencies: ["MufakatCore"]
        ),
        .testTarget(
            name: "MufakatSyncRulesTests",
            dependencies: [
                "MufakatSync",
                "MufakatCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .target(
            name: "MufakatWire",
            dependencies: [
                "MufakatCore",
                "MufakatSync",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .target(
            name: "MufakatTLS",
            dependencies: [
                "MufakatCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "MufakatStore",
            dependencies: [
                "MufakatCore",
                "MufakatSync",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "MufakatHub",
            dependencies: [
                "MufakatCore",
                "MufakatSync",
                "MufakatWire",
                "MufakatStore",
                "MufakatTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "MufakatClient",
            dependencies: [
                "MufakatCore",
                "MufakatSync",
                "MufakatWire",
                "MufakatStore",
                "MufakatTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "MufakatViews",
            dependencies: [
                "MufakatCore",
                "MufakatStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        .target(
            name: "MufakatDashboard",
            dependencies: [
                "MufakatCore",
                "MufakatStore",
                "MufakatViews",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "mufakat",
            dependencies: [
                "MufakatCore",
                "MufakatStore",
                "MufakatClient",
                "MufakatWire",
                "MufakatViews",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "mufakat-hub",
            dependencies: [
                "MufakatCore",
                "MufakatStore",
                "MufakatHub",
                "MufakatClient",
                "MufakatTLS",
                "MufakatDashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "MufakatSyncTests",
            dependencies: [
                "MufakatHub",
                "MufakatClient",
                "MufakatStore",
                "MufakatWire",
                "MufakatTesting",
                "MufakatTLS",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "MufakatStoreTests",
            dependencies: ["MufakatStore", "MufakatSync", "MufakatTesting", .product(name: "GRDB", package: "GRDB.swift")],
            // Store files written by older releases, read by path (MigrationTests).
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "MufakatCLITests",
            dependencies: ["MufakatCore", "MufakatTesting"]
        ),
        .testTarget(
            name: "MufakatViewsTests",
            dependencies: [
                "MufakatViews", "MufakatCore", "MufakatStore", "MufakatTesting", "MufakatDashboard",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .target(
            name: "MufakatTesting",
            dependencies: [
                "MufakatCore",
                "MufakatTLS",
                "MufakatWire",
                "MufakatStore",
                "MufakatHub",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "mufakat-bench",
            dependencies: [
                "MufakatCore",
                "MufakatSync",
                "MufakatWire",
                "MufakatStore",
                "MufakatClient",
                "MufakatTesting",
                "MufakatTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .target(
            name: "MufakatFuzzing",
            dependencies: [
                "MufakatCore",
                "MufakatWire",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "mufakat-fuzz",
            dependencies: ["MufakatFuzzing"]
        ),
        .executableTarget(
            name: "mufakat-faultproxy",
            dependencies: [
                "MufakatTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "MufakatWireTests",
            dependencies: [
                "MufakatWire",
                "MufakatFuzzing",
                "MufakatTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
