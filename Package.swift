// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "mufakat",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MufakatCore", targets: ["MufakatCore"]),
        .library(name: "MufakatWire", targets: ["MufakatWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
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
                "MufakatCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .target(
            name: "MufakatWire",
            dependencies: [
                "MufakatCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .target(
            name: "MufakatTesting",
            dependencies: ["MufakatCore"]
        ),
        .executableTarget(
            name: "mufakat-bench",
            dependencies: [
                "MufakatCore",
                "MufakatWire",
                "MufakatTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .testTarget(
            name: "MufakatWireTests",
            dependencies: [
                "MufakatWire",
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
