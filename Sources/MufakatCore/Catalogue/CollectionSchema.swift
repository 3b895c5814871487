/// One collection of the catalogue: its fields and how its records are named.
public struct CollectionSchema: Hashable, Sendable {
    public var name: String
    public var summary: String
    public var idRule: IDRule
    public var fields: [FieldSpec]
    /// What members may write (``WriteRights``).
    public var writeRule: WriteRule
    /// While a record stays within its organisation (a draft figure), if ever.
    public var inHouse: InHouseRule?
    /// A field that only moves forward, if any.
    public var forwardOnly: ForwardOnlyRule?

    public init(
        name: String, summary: String, idRule: IDRule, fields: [FieldSpec], writeRule: WriteRule,
        inHouse: InHouseRule? = nil, forwardOnly: ForwardOnlyRule? = nil
    ) {
        self.name = name
        self.summary = summary
        self.idRule = idRule
        self.fields = fields
        self.writeRule = writeRule
        self.inHouse = inHouse
        self.forwardOnly = forwardOnly
    }

    public func field(named name: String) -> FieldSpec? {
        fields.first { $0.name == name }
    }

    public var fieldNames: [String] { fields.map(\.name) }

    public var requiredFields: [FieldSpec] { fields.filter(\.required) }
}
