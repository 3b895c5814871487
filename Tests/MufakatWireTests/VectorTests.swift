import Foundation
import MufakatCore
import NIOCore
import Testing
@testable import MufakatWire

@Suite("Protocol test vectors", .serialized)
struct VectorTests {
    @Test("protocol/vectors matches what this code produces (set MUFAKAT_WRITE_VECTORS=1 to rewrite)")
    func filesAreCurrent() throws {
        let generated = try VectorFiles.generate().sorted { $0.name < $1.name }
        if ProcessInfo.processInfo.environment["MUFAKAT_WRITE_VECTORS"] == "1" {
            try VectorFiles.write(generated)
        }
        let stored = try VectorFiles.load()
        #expect(stored.map(\.name) == generated.map(\.name))
        // Compressed bytes may differ between zlib builds; uncompressed frames may not.
        for (file, fresh) in zip(stored, generated) where !file.name.hasSuffix("zlib") {
            #expect(file.frame == fresh.frame, "\(file.name)")
        }
    }

    @Test("every vector file decodes as it says")
    func everyVector() throws {
        let vectors = try VectorFiles.load()
        #expect(vectors.count >= 40)
        let types = Set(vectors.compactMap { vector -> String? in
            if case .object(let header)? = vector.header, case .string(let type)? = header["type"] { return type }
            return nil
        })
        #expect(types == Set(MessageType.allCases.map(\.rawValue)))
        for vector in vectors {
            var buffer = Fixtures.bytes(hex: vector.frame)
            let limits = vector.limits ?? .default
            do {
                guard let frame = try buffer.readWireFrame(limits: limits) else {
                    Issue.record("\(vector.name): frame incomplete")
                    continue
                }
                let message = try Message(frame: frame, limits: limits, form: vector.form)
                guard vector.error == nil else {
                    Issue.record("\(vector.name): decoded, expected \(vector.error!)")
                    continue
                }
                #expect(buffer.readableBytes == 0, "\(vector.name): bytes left over")
                if let refused = vector.refused {
                    // A push with records a hub refuses alone: those come back flagged,
                    // with their place, the others decoded as usual.
                    let flagged = message.records.enumerated().compactMap { index, record in
                        record.refusal.map { RefusedLine(line: index + 2, collection: record.collection, id: record.id, fields: $0.field.map { [$0] } ?? []) }
                    }
                    #expect(flagged == refused, "\(vector.name): refused lines")
                    let kept = message.records.filter { $0.refusal == nil }.map { JSONValue.parse($0.line(vector.form)) }
                    #expect(kept == vector.records ?? [], "\(vector.name): records")
                    continue
                }
                let body = String(buffer: try message.encodeBody(form: vector.form))
                let lines = body.split(separator: "\n")
                #expect(JSONValue.parse(lines[0]) == vector.header, "\(vector.name): header")
                #expect(lines.dropFirst().map { JSONValue.parse($0) } == vector.records ?? [], "\(vector.name): records")
                // Record lines in vectors are canonical: re-encoding gives the same text.
                for (record, line) in zip(message.records, lines.dropFirst()) {
                    #expect(record.line(vector.form) == line, "\(vector.name): canonical record")
                }
                if !frame.flags.contains(.compressed) {
                    #expect(Fixtures.hex(Fixtures.frameBytes(WireFrame(flags: [], body: try message.encodeBody(form: vector.form)))) == vector.frame)
                }
            } catch let error as WireError {
                #expect(error.code.rawValue == vector.error, "\(vector.name): \(error)")
            }
        }
    }
}
