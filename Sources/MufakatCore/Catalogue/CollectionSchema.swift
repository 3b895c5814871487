/// One collection of the catalogue: its fields and how its records are named.
public struct CollectionSchema: Hashable, Sendable {
    public var name: String
    public var summary: String
    public var idRule: IDRule
    public var fields: [FieldSpec]

    public init(name: String, summary: String, idRule: IDRule, fields: [FieldSpec]) {
        self.name = name
        self.summary = summary
        self.idRule = idRule
        self.fields = fields
    }

    public func field(named name: String) -> FieldSpec? {
        fields.first { $0.name == name }
    }

    public var fieldNames: [String] { fields.map(\.name) }

    public var requiredFields: [FieldSpec] { fields.filter(\.required) }
}
