import Foundation
import MufakatFuzzing
import Testing

/// The fuzz target's properties over its seed corpus and every regression input: a crash
/// or a broken property here is one the fuzzer found before (protocol/vectors/fuzz/).
@Suite("Fuzz corpus and regression inputs")
struct FuzzRegressionTests {
    static let vectors = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("protocol/vectors")

    @Test("every vector frame, record line and regression input passes the fuzz target's checks")
    func corpus() throws {
        var inputs: [[UInt8]] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.vectors.path) where name.hasSuffix(".json") {
            let vector = try Vector.load(Self.vectors.appendingPathComponent(name))
            inputs.append(Fixtures.bytes(hex: vector.frame).readableBytesView.map { $0 })
        }
        let regressions = Self.vectors.appendingPathComponent("fuzz")
        for name in try FileManager.default.contentsOfDirectory(atPath: regressions.path) where name != "README.md" {
            inputs.append(Array(try Data(contentsOf: regressions.appendingPathComponent(name))))
        }
        #expect(inputs.count >= 60)
        for input in inputs { input.withUnsafeBytes(FuzzTarget.run) }
    }
}

extension Vector {
    static func load(_ url: URL) throws -> Vector {
        try JSONDecoder().decode(Vector.self, from: Data(contentsOf: url))
    }
}
