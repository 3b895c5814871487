import Crypto
import Foundation

/// Record ids: what is allowed, and how the derived ones are made.
public enum RecordIDs {
    public static let maxLength = 200

    /// Why `id` cannot name a record, or `nil` when it can: 1–200 characters from letters,
    /// digits and `- _ . : + @`.
    public static func problem(with id: String) -> String? {
        guard !id.isEmpty else { return "an id cannot be empty" }
        guard id.utf8.count <= maxLength else { return "id '\(id.prefix(40))…' is longer than \(maxLength) characters" }
        let allowed = id.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || "-_.:+@".unicodeScalars.contains(scalar)
        }
        guard allowed else {
            return "id '\(id)' may only hold letters, digits and - _ . : + @"
        }
        return nil
    }

    /// A lowercase slug of `text`: `Save the Children` → `save-the-children`; accents are
    /// dropped, however they were typed (`Café` precomposed or with a combining accent →
    /// `cafe`).
    public static func slug(_ text: String) -> String {
        var slug = ""
        var pendingDash = false
        let plain = text.lowercased().decomposedStringWithCanonicalMapping.unicodeScalars.filter {
            $0.properties.generalCategory != .nonspacingMark
        }
        for scalar in plain {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                if pendingDash, !slug.isEmpty { slug.append("-") }
                pendingDash = false
                slug.unicodeScalars.append(scalar)
            } else {
                pendingDash = true
            }
        }
        var result = String(slug.prefix(60))
        while result.hasSuffix("-") { result.removeLast() }
        return result
    }

    /// `prefix` + 10 random characters from `a-z0-9` (about 51 bits).
    public static func generated<G: RandomNumberGenerator>(prefix: String, using generator: inout G) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return prefix + String((0..<10).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    /// How a key field's value is compared: its text case-folded (Unicode full case folding:
    /// `Straße` and `STRASSE` agree, as do final and medial sigma), in Unicode NFC, with
    /// runs of whitespace as one space — so `East  Java` and `east java`, and `Café` typed
    /// with a precomposed `é` or with `e` and a combining accent, are one key. (Values are
    /// canonical already: enums as listed, codes in capitals.)
    public static func keyText(_ value: FieldValue?) -> String {
        keyText(value) { $0.folding(options: .caseInsensitive, locale: nil).precomposedStringWithCanonicalMapping }
    }

    /// The key text of versions before NFC and case folding (lower case, whitespace
    /// collapsed): ids they derived stay valid for the records they made.
    static func legacyKeyText(_ value: FieldValue?) -> String {
        keyText(value) { $0.lowercased() }
    }

    /// A value's text in lower case when it is plain ASCII, else `fold`ed with runs of
    /// whitespace as one space.
    private static func keyText(_ value: FieldValue?, fold: (String) -> String) -> String {
        guard let value, !value.isNull else { return "" }
        let text = value.text
        if text.isPlainASCIILine { return text.lowercased() }
        return fold(text).split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// `prefix` + the first 20 hex digits of SHA-256 over the key values (``keyText(_:)``)
    /// joined by `|`.
    public static func naturalKey(prefix: String, values: [FieldValue?]) -> String {
        hashedKey(prefix: prefix, values.map(keyText))
    }

    /// The id an earlier version derived from the same values (see ``legacyKeyText(_:)``);
    /// equal to ``naturalKey(prefix:values:)`` for plain ASCII text.
    public static func legacyNaturalKey(prefix: String, values: [FieldValue?]) -> String {
        hashedKey(prefix: prefix, values.map(legacyKeyText))
    }

    static func hashedKey(prefix: String, _ texts: [String]) -> String {
        let key = texts.joined(separator: "|")
        let digest = SHA256.hash(data: Array(key.utf8))
        return prefix + digest.prefix(10).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
