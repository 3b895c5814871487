import MufakatCore
import MufakatWire
import NIOCore

/// What the fuzzer runs on one input, and the properties it checks beyond "no crash":
///
/// - the input read as a stream of frames, each decoded with inflation;
/// - the input as a frame body, plain and with the compressed flag;
/// - the input as one record line, and as a header line;
/// - whatever decodes re-encodes to text that decodes to the same message or record
///   (canonical form is a fixed point).
///
/// A property that fails traps (`precondition`), which the fuzzer reports as a crash.
public enum FuzzTarget {
    /// Small limits, so that inputs reach them.
    public static let limits = WireLimits(frameBytes: 64 << 10, inflatedBytes: 64 << 10, lineBytes: 16 << 10, records: 64)

    public static func run(_ data: UnsafeRawBufferPointer) {
        var stream = ByteBuffer(bytes: data)
        while stream.readableBytes > 0, let frame = try? stream.readWireFrame(limits: limits) {
            check(frame)
        }
        check(WireFrame(flags: [], body: ByteBuffer(bytes: data)))
        check(WireFrame(flags: .compressed, body: ByteBuffer(bytes: data)))
        if let record = try? ReplicatedRecord.decode(utf8: data, form: nil), record.refusal == nil {
            // Both forms are fixed points, and each decodes to the record the other does.
            for form in [RecordForm.expanded, .compact] {
                var text = record.line(form)
                let again = text.withUTF8 { bytes in
                    Result { () throws(RecordDecodingError) in try ReplicatedRecord.decode(utf8: UnsafeRawBufferPointer(bytes), form: form) }
                }
                guard case .success(let reread) = again else {
                    preconditionFailure("the \(form) text of a decoded record does not decode: \(text)")
                }
                precondition(reread == record, "the \(form) text of a decoded record decodes to another record")
                precondition(reread.line(form) == text, "the \(form) text of a record is not a fixed point")
            }
        }
        _ = try? HeaderLine.check(data)
    }

    /// Decodes a frame; a message that decodes must survive encoding and decoding again.
    static func check(_ frame: WireFrame) {
        for form in [RecordForm.expanded, .compact] { check(frame, form: form) }
    }

    static func check(_ frame: WireFrame, form: RecordForm) {
        guard let message = try? Message(frame: frame, limits: limits, form: form) else { return }
        // Records a hub would refuse alone re-encode as empty states: not comparable.
        guard message.records.allSatisfy({ $0.refusal == nil }) else { return }
        let body: ByteBuffer
        do {
            body = try message.encodeBody(form: form)
        } catch {
            preconditionFailure("a decoded message does not encode: \(error)")
        }
        let generous = WireLimits(frameBytes: 64 << 20, inflatedBytes: 64 << 20, lineBytes: 4 << 20, records: 10_000)
        do {
            let again = try Message(frame: WireFrame(flags: [], body: body), limits: generous, form: form)
            precondition(again == message, "a decoded message re-encodes to another message")
        } catch {
            preconditionFailure("a decoded message re-encodes to text that does not decode: \(error)")
        }
    }
}
