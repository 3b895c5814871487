/// One field of a collection in the catalogue.
public struct FieldSpec: Hashable, Sendable {
    public var name: String
    public var type: FieldType
    public var required: Bool
    /// One sentence for `mufakat help COLLECTION`.
    public var summary: String

    public init(_ name: String, _ type: FieldType, required: Bool = false, _ summary: String) {
        self.name = name
        self.type = type
        self.required = required
        self.summary = summary
    }
}
