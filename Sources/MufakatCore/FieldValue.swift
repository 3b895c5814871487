/// The value one write gave one field.
///
/// The catalogue stores every field type as one of these: text types as ``string(_:)``,
/// whole numbers as ``integer(_:)``, lists of references as ``list(_:)``. `null` clears a
/// field (and is what a delete writes); ``bool(_:)`` only appears in the reserved
/// `_deleted` field.
///
/// Two values are equal when they are the same bytes: text is never compared by Unicode
/// equivalence (see ``Swift/String/utf8Equal(_:)``).
public enum FieldValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case integer(Int64)
    case string(String)
    case list([String])

    public var isNull: Bool { self == .null }

    public static func == (lhs: FieldValue, rhs: FieldValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.string(let a), .string(let b)): return a.utf8Equal(b)
        case (.list(let a), .list(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.utf8Equal($1) }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let flag): hasher.combine(1); hasher.combine(flag)
        case .integer(let number): hasher.combine(2); hasher.combine(number)
        case .string(let text): hasher.combine(3); text.hashUTF8(into: &hasher)
        case .list(let items):
            hasher.combine(4)
            hasher.combine(items.count)
            for item in items { item.hashUTF8(into: &hasher) }
        }
    }

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
