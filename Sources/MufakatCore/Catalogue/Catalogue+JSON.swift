import Foundation

extension Catalogue {
    /// The catalogue as data, for a second implementation: `protocol/catalogue.json` is
    /// this text, and a test keeps the two equal. Pretty-printed with sorted keys;
    /// collections and fields in catalogue order.
    public static func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(CatalogueDocument())
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// `protocol/catalogue.json`; see PROTOCOL.md §11 for how to read it.
struct CatalogueDocument: Encodable {
    var format = 1
    var reservedFields = [
        ReservedField(
            name: RecordState.deletedField, values: "true or false",
            meaning: "true: the record is deleted (PROTOCOL.md §6.2); false: restored. In every collection."),
    ]
    var limits = Limits()
    var types = FieldTypeDocument.all
    var countries = CountryCodes.all.sorted()
    var roles = [
        RoleDocument(name: "coordinator", writes: "every record", receives: "every record"),
        RoleDocument(name: "member", writes: "what each collection's 'write.member' rule gives its organization", receives: "published records and its organization's in-house ones"),
        RoleDocument(name: "observer", writes: "nothing", receives: "what a member of its organization receives"),
    ]
    var governmentTypes = Catalogue.governmentTypes
    var collections = Catalogue.collections.map(CollectionDocument.init)

    struct RoleDocument: Encodable {
        var name: String
        var writes: String
        var receives: String
    }

    struct ReservedField: Encodable {
        var name: String
        var values: String
        var meaning: String
    }

    struct Limits: Encodable {
        var stringCharacters = FieldType.maxStringLength
        var stringBytes = FieldType.maxStringBytes
        var textCharacters = FieldType.maxTextLength
        var textBytes = FieldType.maxTextBytes
        var idBytes = RecordIDs.maxLength
        var idCharacters = "a-z A-Z 0-9 - _ . : + @"
        var fieldNameBytes = 64
        var slugCharacters = 60
        var integerMax = FieldType.maxCount
    }
}

struct FieldTypeDocument: Encodable {
    var name: String
    /// The JSON kind of a stored value (besides `null`, a cleared field).
    var json: String
    /// The stored form a hub checks, and a writer normalises typed input to.
    var storedForm: String

    static let all: [FieldTypeDocument] = [
        .init(name: "string", json: "string",
              storedForm: "one line: none of the seven line breaks (LF, VT, FF, CR, NEL, U+2028, U+2029), no tab, no leading or trailing White_Space, single U+0020 spaces between words; at most stringCharacters Unicode scalar values (so within stringBytes UTF-8 bytes)"),
        .init(name: "text", json: "string",
              storedForm: "lines ended by LF, no other line break (VT, FF, CR, NEL, U+2028, U+2029), no leading or trailing White_Space; at most textCharacters Unicode scalar values (so within textBytes UTF-8 bytes)"),
        .init(name: "integer", json: "integer",
              storedForm: "an integer from 0 to integerMax"),
        .init(name: "date", json: "string",
              storedForm: "YYYY-MM-DD, a real calendar day, year 1900–2199"),
        .init(name: "period", json: "string",
              storedForm: "YYYY, YYYY-Qn (n 1–4) or YYYY-MM (01–12), year 1900–2199, Q in capitals"),
        .init(name: "country", json: "string",
              storedForm: "one of 'countries' (ISO 3166-1 alpha-2, capitals)"),
        .init(name: "enum", json: "string",
              storedForm: "one of the field's 'values', spelled exactly as listed"),
        .init(name: "reference", json: "string",
              storedForm: "a record id (idBytes, idCharacters) of the field's 'target' collection; ids of organizations in lower case. It may name a record not yet synced"),
        .init(name: "references", json: "array of strings",
              storedForm: "one or more record ids of the field's 'target' collection, each once, in the order written; a cleared list is null, never []"),
        .init(name: "url", json: "string",
              storedForm: "http:// or https:// (either case), a host with a dot, no whitespace, at most 2,000 characters"),
    ]
}

struct CollectionDocument: Encodable {
    var name: String
    var summary: String
    var id: IDRuleDocument
    var fields: [FieldDocument]
    var write: WriteDocument
    var inHouse: InHouseDocument?
    var forwardOnly: ForwardOnlyDocument?

    init(_ schema: CollectionSchema) {
        name = schema.name
        summary = schema.summary
        id = IDRuleDocument(schema.idRule)
        fields = schema.fields.map(FieldDocument.init)
        write = WriteDocument(schema.writeRule)
        inHouse = schema.inHouse.map { InHouseDocument(field: $0.field, values: $0.values, organization: $0.organization) }
        forwardOnly = schema.forwardOnly.map { ForwardOnlyDocument(field: $0.field, order: $0.order) }
    }
}

/// A collection's write rule for members (PROTOCOL.md §6.10): `joint`, or `own` with the
/// fields that may name the member's organization (`id`: the record's id) and the field
/// that may name a government body instead.
struct WriteDocument: Encodable {
    var member: String
    var ownOrganizationIn: [String]?
    var orGovernmentBodyIn: String?
    var creatorField: String?
    var writerField: String?
    var coordinatorValues: [String: [String]]?
    var summary: String

    init(_ rule: WriteRule) {
        summary = rule.summary
        creatorField = rule.creatorField
        writerField = rule.writerField
        coordinatorValues = rule.coordinatorValues.isEmpty ? nil : rule.coordinatorValues
        switch rule.member {
        case .joint:
            member = "joint"
        case .own(let fields, let government):
            member = "own"
            ownOrganizationIn = fields
            orGovernmentBodyIn = government
        }
    }
}

struct InHouseDocument: Encodable {
    var field: String
    var values: [String]
    var organization: String
}

struct ForwardOnlyDocument: Encodable {
    var field: String
    var order: [String]
}

struct IDRuleDocument: Encodable {
    /// `slug`, `composite`, `natural-key` or `generated` (PROTOCOL.md §6.8).
    var rule: String
    var from: String?
    var fields: [String]?
    var prefix: String?
    var separator: String?

    init(_ rule: IDRule) {
        switch rule {
        case .slug(let source):
            self.rule = "slug"
            from = source
        case .composite(let keys):
            self.rule = "composite"
            fields = keys
            separator = ":"
        case .naturalKey(let prefix, let keys):
            self.rule = "natural-key"
            self.prefix = prefix
            fields = keys
        case .generated(let prefix):
            self.rule = "generated"
            self.prefix = prefix
        }
    }
}

struct FieldDocument: Encodable {
    var name: String
    var type: String
    var required: Bool
    var values: [String]?
    var target: String?
    var summary: String

    init(_ spec: FieldSpec) {
        name = spec.name
        required = spec.required
        summary = spec.summary
        switch spec.type {
        case .string: type = "string"
        case .text: type = "text"
        case .integer: type = "integer"
        case .date: type = "date"
        case .period: type = "period"
        case .country: type = "country"
        case .enumeration(let allowed):
            type = "enum"
            values = allowed
        case .reference(let collection):
            type = "reference"
            target = collection
        case .references(let collection):
            type = "references"
            target = collection
        case .url: type = "url"
        }
    }
}
