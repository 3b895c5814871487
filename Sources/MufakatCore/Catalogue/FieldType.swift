/// The kind of value a field holds, and so what a person may type into it.
public enum FieldType: Hashable, Sendable {
    /// One line of text, at most ``FieldType/maxStringLength`` characters.
    case string
    /// Free text over several lines, at most ``FieldType/maxTextLength`` characters.
    case text
    /// A whole number, 0 or more.
    case integer
    /// A calendar date, `YYYY-MM-DD`.
    case date
    /// A reporting period: a year `YYYY`, a quarter `YYYY-Qn` or a month `YYYY-MM`.
    case period
    /// An ISO 3166-1 alpha-2 country code such as `ID` or `MY`.
    case country
    /// One of a fixed list of values, matched without regard to case, stored as listed.
    case enumeration([String])
    /// The id of a record in the named collection.
    case reference(String)
    /// Several ids of records in the named collection, separated by `;`.
    case references(String)
    /// A web address starting with `http://` or `https://`.
    case url

    public static let maxStringLength = 200
    /// The largest count an integer field holds: a billion people, sessions or cases is no
    /// figure a coalition reports, and sums of such counts stay far inside 64 bits.
    public static let maxCount: Int64 = 1_000_000_000
    public static let maxTextLength = 10_000
    /// Bytes a value may take in UTF-8. Lengths count Unicode scalar values, each at most
    /// 4 bytes, so a value within its length is within these (the catalogue still lists them).
    public static let maxStringBytes = 1_000
    public static let maxTextBytes = 40_000

    /// A short name for tables and help: `enum`, `reference → organizations`, …
    public var name: String {
        switch self {
        case .string: return "string"
        case .text: return "text"
        case .integer: return "integer"
        case .date: return "date"
        case .period: return "period"
        case .country: return "country"
        case .enumeration: return "enum"
        case .reference(let target): return "reference → \(target)"
        case .references(let target): return "list of references → \(target)"
        case .url: return "url"
        }
    }

    /// What a person may type, in words, for help and error messages.
    public var accepted: String {
        switch self {
        case .string: return "one line of text, up to \(Self.maxStringLength) characters"
        case .text: return "text, up to \(Self.maxTextLength) characters"
        case .integer: return "a whole number from 0 to \(Self.maxCount)"
        case .date: return "a date as YYYY-MM-DD"
        case .period: return "YYYY, YYYY-Qn (quarter 1–4) or YYYY-MM"
        case .country: return "a two-letter ISO country code such as ID, MY or TH"
        case .enumeration(let values): return values.joined(separator: ", ")
        case .reference(let target): return "the id of a record in \(target)"
        case .references(let target): return "ids of records in \(target), separated by ';'"
        case .url: return "a web address starting with http:// or https://"
        }
    }

    /// The allowed values of an enumeration, empty for other types.
    public var allowedValues: [String] {
        if case .enumeration(let values) = self { return values }
        return []
    }
}
