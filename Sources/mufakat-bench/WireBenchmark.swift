import CompressNIO
import MufakatCore
import MufakatTesting
import MufakatWire
import NIOCore

/// Frame encode and decode of a 1,000-report `changes` batch, against zlib alone on the
/// same body: the floor any zlib-framed protocol pays.
enum WireBenchmark {
    static func run(into report: BenchReport) throws {
        var data = SampleData(seed: 7)
        let replica = try ReplicaID("3f9c0a17be2d4410")
        let message = Message.changes(
            Changes(through: 1_000, more: false), records: (0..<1_000).map { data.report($0, replica: replica) })
        let body = try message.encodeBody()
        let frame = try message.frame()
        var encoded = ByteBuffer()
        encoded.writeWireFrame(frame)
        let bodyMB = Double(body.readableBytes) / 1e6
        let runs = 15

        let encodeTime = try measure(runs: runs) {
            var out = ByteBuffer()
            out.writeWireFrame(try message.frame())
        }
        let zlibCompressTime = try measure(runs: runs) {
            var input = body
            _ = try input.compress(with: .zlib())
        }
        let decodeTime = try measure(runs: runs) {
            var input = encoded
            _ = try Message(frame: input.readWireFrame(limits: .default)!)
        }
        let zlibInflateTime = try measure(runs: runs) {
            var input = frame.body
            _ = try input.decompress(with: .zlib())
        }
        report.add(BenchRow(
            benchmark: "wire", figure: "encode 1,000 reports (MB/s of body)", value: bodyMB / encodeTime, unit: "MB/s",
            baseline: "zlib deflate alone", baselineValue: bodyMB / zlibCompressTime))
        report.add(BenchRow(
            benchmark: "wire", figure: "decode 1,000 reports (MB/s of body)", value: bodyMB / decodeTime, unit: "MB/s",
            baseline: "zlib inflate alone", baselineValue: bodyMB / zlibInflateTime))
        report.add(BenchRow(
            benchmark: "wire", figure: "frame bytes for 1,000 reports", value: Double(encoded.readableBytes), unit: "bytes",
            baseline: "uncompressed body", baselineValue: Double(body.readableBytes)))
    }
}
