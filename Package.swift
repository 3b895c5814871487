// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "mufakat",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MufakatCore", targets: ["MufakatCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
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
    ],
    swiftLanguageModes: [.v6]
)
