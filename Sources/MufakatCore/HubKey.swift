import Crypto
import Foundation

/// A hub's identity as replicas pin it: the SHA-256 of its certificate's public key
/// (the DER `SubjectPublicKeyInfo`), written as OpenSSH writes key fingerprints,
/// `SHA256:` and the 32 bytes in base64 without padding (43 characters).
///
/// It names the key, not the certificate: a certificate renewed for the same key keeps
/// the fingerprint, and a new key is a new identity that every replica must be told of
/// (see PROTOCOL.md §12).
///
/// ```swift
/// let key = try HubKey(parsing: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU")
/// ```
public struct HubKey: Hashable, Sendable, CustomStringConvertible {
    public static let prefix = "SHA256:"
    /// The 32 bytes of the digest.
    public let digest: [UInt8]

    /// The fingerprint of a DER-encoded `SubjectPublicKeyInfo`.
    public init(subjectPublicKeyInfo: some DataProtocol) {
        digest = Array(SHA256.hash(data: subjectPublicKeyInfo))
    }

    /// Parses `SHA256:` and 43 base64 characters (padding `=` tolerated).
    ///
    /// - Throws: ``MufakatError`` (`invalid`) naming what is accepted.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let invalid = MufakatError(
            .invalid,
            "'\(trimmed.prefix(80))' is not a hub key: a hub key is SHA256: and 43 base64 characters, as 'mufakat-hub status' and 'mufakat-hub token create' print it",
            value: String(trimmed.prefix(80)))
        guard trimmed.hasPrefix(Self.prefix) else { throw invalid }
        var body = String(trimmed.dropFirst(Self.prefix.count))
        if body.hasSuffix("=") { body.removeLast() }
        guard body.count == 43, body.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/") }),
              let data = Data(base64Encoded: body + "="), data.count == 32
        else { throw invalid }
        digest = Array(data)
    }

    public var description: String {
        var text = Data(digest).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return Self.prefix + text
    }
}
