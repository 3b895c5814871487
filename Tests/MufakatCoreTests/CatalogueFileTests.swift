import Foundation
import Testing
@testable import MufakatCore

/// `protocol/catalogue.json` and `protocol/vectors/records/ids.json`: the catalogue and the
/// id rules as a second implementation reads them.
@Suite("Catalogue file and id vectors")
struct CatalogueFileTests {
    static let protocolDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("protocol")

    @Test("protocol/catalogue.json is the Swift catalogue (MUFAKAT_WRITE_VECTORS=1 rewrites it)")
    func catalogueFileIsCurrent() throws {
        let file = Self.protocolDirectory.appendingPathComponent("catalogue.json")
        let generated = try Catalogue.json()
        if ProcessInfo.processInfo.environment["MUFAKAT_WRITE_VECTORS"] == "1" {
            try generated.write(to: file, atomically: true, encoding: .utf8)
        }
        let stored = try String(contentsOf: file, encoding: .utf8)
        #expect(stored == generated, "protocol/catalogue.json differs from the catalogue; rewrite it with MUFAKAT_WRITE_VECTORS=1 after a deliberate change")
    }

    @Test("the file read back gives every collection, field, type, enum value and id rule")
    func catalogueFileReadsBack() throws {
        let data = try Data(contentsOf: Self.protocolDirectory.appendingPathComponent("catalogue.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let collections = try #require(document["collections"] as? [[String: Any]])
        #expect(collections.compactMap { $0["name"] as? String } == Catalogue.collectionNames)
        for (collection, schema) in zip(collections, Catalogue.collections) {
            let fields = try #require(collection["fields"] as? [[String: Any]])
            #expect(fields.compactMap { $0["name"] as? String } == schema.fieldNames)
            for (field, spec) in zip(fields, schema.fields) {
                #expect(field["required"] as? Bool == spec.required, "\(schema.name).\(spec.name)")
                #expect((field["values"] as? [String] ?? []) == spec.type.allowedValues, "\(schema.name).\(spec.name)")
            }
            let id = try #require(collection["id"] as? [String: Any])
            #expect((id["fields"] as? [String] ?? []) == schema.idRule.keyFields, "\(schema.name)")
        }
        let countries = try #require(document["countries"] as? [String])
        #expect(countries.count == 249 && countries.allSatisfy { FieldType.country.isCanonical(.string($0)) })
    }

    struct IDVectors: Decodable {
        struct Case: Decodable {
            var description: String
            var collection: String
            var fields: [String: Value]
            var keyText: String?
            var id: String
            var legacyId: String?
        }

        enum Value: Decodable {
            case string(String), integer(Int64)
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Int64.self) { self = .integer(number) } else { self = .string(try container.decode(String.self)) }
            }
            var field: FieldValue {
                switch self {
                case .string(let text): return .string(text)
                case .integer(let number): return .integer(number)
                }
            }
        }

        var cases: [Case]
    }

    @Test("each id vector derives its id, and the hub's id check accepts it (and its legacy id)")
    func idVectors() throws {
        let data = try Data(contentsOf: Self.protocolDirectory.appendingPathComponent("vectors/records/ids.json"))
        let vectors = try JSONDecoder().decode(IDVectors.self, from: data)
        #expect(vectors.cases.count >= 12)
        for vector in vectors.cases {
            let schema = try Catalogue.collection(named: vector.collection)
            let document = vector.fields.mapValues(\.field)
            for (name, value) in document {
                #expect(schema.field(named: name)?.type.isCanonical(value) == true, "\(vector.description): \(name) is a stored value")
            }
            #expect(schema.derivedID(for: document) == vector.id, "\(vector.description)")
            #expect(schema.problems(withID: vector.id, document: document).isEmpty, "\(vector.description)")
            if case .naturalKey(let prefix, let keys) = schema.idRule {
                #expect(keys.map { RecordIDs.keyText(document[$0]) }.joined(separator: "|") == vector.keyText, "\(vector.description)")
                if let legacy = vector.legacyId {
                    #expect(RecordIDs.legacyNaturalKey(prefix: prefix, values: keys.map { document[$0] }) == legacy, "\(vector.description)")
                    #expect(schema.problems(withID: legacy, document: document).isEmpty, "\(vector.description)")
                }
                #expect(!schema.problems(withID: "r-00000000000000000000", document: document).isEmpty)
            }
        }
    }

    /// A value in `values.json`: a string, `{"repeat": S, "times": N}`, or an array of those.
    struct VectorText: Decodable {
        var text: String
        struct Repeat: Decodable {
            var `repeat`: String
            var times: Int
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self.text = text
            } else if let part = try? container.decode(Repeat.self) {
                text = String(repeating: part.repeat, count: part.times)
            } else {
                text = try container.decode([VectorText].self).map(\.text).joined()
            }
        }
    }

    struct ValueVectors: Decodable {
        struct Stored: Decodable {
            var description: String
            var type: String
            var value: VectorText
            var accepted: Bool
            var rule: String?
        }

        struct Typed: Decodable {
            var description: String
            var type: String
            var typed: VectorText
            var stored: String?
            var refused: String?
        }

        var stored: [Stored]
        var typed: [Typed]
    }

    @Test("each value vector: the hub's stored-form check and the writer's normalisation agree with values.json (lengths in scalars, seven line breaks)")
    func valueVectors() throws {
        let data = try Data(contentsOf: Self.protocolDirectory.appendingPathComponent("vectors/records/values.json"))
        let vectors = try JSONDecoder().decode(ValueVectors.self, from: data)
        #expect(vectors.stored.count >= 20 && vectors.typed.count >= 10)
        func type(_ name: String) -> FieldType? { name == "string" ? .string : name == "text" ? .text : nil }
        for vector in vectors.stored {
            let type = try #require(type(vector.type), "\(vector.description)")
            let problem = type.storedFormProblem(.string(vector.value.text))
            if vector.accepted {
                #expect(problem == nil, "\(vector.description)")
            } else {
                #expect(problem?.contains(vector.rule ?? "?") == true, "\(vector.description): \(problem ?? "accepted")")
            }
        }
        for vector in vectors.typed {
            let type = try #require(type(vector.type), "\(vector.description)")
            switch type.parse(vector.typed.text) {
            case .success(let value):
                #expect(value == .string(vector.stored ?? "(refused)"), "\(vector.description)")
                #expect(type.storedFormProblem(value) == nil, "\(vector.description): what a writer stores is in the stored form")
            case .failure(let failure):
                #expect(failure.reason.contains(vector.refused ?? "(stored)"), "\(vector.description): \(failure.reason)")
            }
        }
    }
}
