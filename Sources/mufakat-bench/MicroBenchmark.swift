import Foundation
import MufakatCore
import MufakatTesting
import MufakatWire
import NIOCore

/// Operations per second of the hot paths, in release mode, against Foundation doing the
/// nearest equivalent work on the same data in the same run.
enum MicroBenchmark {
    /// Runs `body` for about half a second, three times, and returns the median rate.
    static func rate(_ body: () throws -> Void) rethrows -> Double {
        var rates: [Double] = []
        for _ in 0..<3 {
            var count = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed: UInt64 = 0
            repeat {
                for _ in 0..<16 { try body() }
                count += 16
                elapsed = DispatchTime.now().uptimeNanoseconds - start
            } while elapsed < 500_000_000
            rates.append(Double(count) / (Double(elapsed) / 1e9))
        }
        return rates.sorted()[1]
    }

    static func run(into report: BenchReport) throws {
        var data = SampleData(seed: 3)
        let a = try ReplicaID("aaaa"), b = try ReplicaID("bbbb")
        let left = data.report(1, replica: a)
        var rightState = left.state
        try rightState.write(["value": .integer(99), "status": .string("Validated")], dot: Dot(replica: b, counter: 1), now: 2, author: "B")
        var leftState = left.state
        try leftState.write(["value": .integer(98)], dot: Dot(replica: a, counter: 10), now: 2, author: "A")

        report.add(BenchRow(
            benchmark: "micro", figure: "merge two report states (ops/s)", value: try rate { _ = try leftState.merging(rightState) }, unit: "ops/s"))

        let merged = try leftState.merging(rightState)
        let record = ReplicatedRecord(collection: "reports", id: left.id, state: merged)
        let text = record.canonicalJSON
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        report.add(BenchRow(
            benchmark: "micro", figure: "canonical encode of a record (ops/s)", value: rate { _ = record.canonicalJSON }, unit: "ops/s",
            baseline: "JSONSerialization.data, sorted keys",
            baselineValue: try rate { _ = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) }))

        let bytes = Data(text.utf8)
        report.add(BenchRow(
            benchmark: "micro", figure: "decode of a record (ops/s)", value: try rate { _ = try ReplicatedRecord(json: text) }, unit: "ops/s",
            baseline: "JSONSerialization.jsonObject (untyped)", baselineValue: try rate { _ = try JSONSerialization.jsonObject(with: bytes) }))

        let message = Message.changes(Changes(through: 100, more: false), records: (0..<100).map { data.report($0, replica: a) })
        var encoded = ByteBuffer()
        encoded.writeWireFrame(try message.frame())
        let encodeRate = try rate {
            var out = ByteBuffer()
            out.writeWireFrame(try message.frame())
        }
        report.add(BenchRow(benchmark: "micro", figure: "encode a compressed 100-record frame (ops/s)", value: encodeRate, unit: "ops/s"))
        let decodeRate = try rate {
            var input = encoded
            _ = try Message(frame: input.readWireFrame(limits: .default)!)
        }
        report.add(BenchRow(benchmark: "micro", figure: "decode a compressed 100-record frame (ops/s)", value: decodeRate, unit: "ops/s"))
    }
}
