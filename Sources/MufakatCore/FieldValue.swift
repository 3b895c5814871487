/// The value one write gave one field.
///
/// The catalogue stores every field type as one of these: text types as ``string(_:)``,
/// whole numbers as ``integer(_:)``, lists of references as ``list(_:)``. `null` clears a
/// field (and is what a delete writes); ``bool(_:)`` only appears in the reserved
/// `_deleted` field.
public enum FieldValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case integer(Int64)
    case string(String)
    case list([String])

    public var isNull: Bool { self == .null }

    /// The value as a person would type it: lists joined by `;`, null as the empty string.
    public var text: String {
        switch self {
        case .null: return ""
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let number): return String(number)
        case .string(let string): return string
        case .list(let items): return items.joined(separator: ";")
        }
    }

    public var description: String {
        switch self {
        case .null: return "(cleared)"
        default: return text
        }
    }
}
