/// How a collection names its records.
public enum IDRule: Hashable, Sendable {
    /// A lowercase slug (`save-the-children`); `new` makes one from the named field.
    case slug(from: String)
    /// The key fields joined by `:` (`iom:ask-budget`), so one subject has one position
    /// per ask whoever enters it.
    case composite([String])
    /// `prefix` + a hash of the canonical key fields, so two people entering the same
    /// figure offline produce the same record — a conflict if they disagree, never a
    /// duplicate.
    case naturalKey(prefix: String, fields: [String])
    /// `prefix` + random characters, made by `new`.
    case generated(prefix: String)

    /// The fields the id is made from; changing them would make it another record.
    public var keyFields: [String] {
        switch self {
        case .slug: return []
        case .composite(let fields), .naturalKey(_, let fields): return fields
        case .generated: return []
        }
    }
}
