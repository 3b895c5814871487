import Crypto
import Foundation

/// The name a laptop gives a write when it makes it, before the hub names it with a dot.
///
/// Laptops never issue dots (protocol 5): a restored backup or a copied folder rolls any
/// counter back, and a counter rolled back names two writes alike. A write id cannot
/// collide: it is 128 random bits drawn once per local transaction, followed by the write's
/// number in that transaction — `<32 lowercase hex digits>-<n>`. A restored or copied
/// folder, or a laptop with a wrong clock, opens a new transaction and draws new bits.
///
/// The hub keeps write id → dot, so a write pushed twice (a lost acknowledgement, a copy of
/// the folder, a colleague's relay) is stored once under one dot.
///
/// ```swift
/// var ids = WriteIDSource()       // one per transaction
/// let first = ids.next()          // "6f1c…e2a9-1"
/// let second = ids.next()         // "6f1c…e2a9-2"
/// ```
public struct WriteID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// The prefix of the local dot a pending write's entries carry on the laptop.
    static let localActorPrefix = "w-"
    /// Hexadecimal digits of the random part.
    public static let randomDigits = 32
    /// Most characters of the number after the random part (`UInt64.max` has 20).
    static let maxNumberDigits = 20

    /// Validates `rawValue`: 32 lowercase hexadecimal digits, `-`, and a number from 1
    /// without leading zeros (at most 20 digits, at most `UInt64.max`).
    public init(_ rawValue: String) throws(MufakatError) {
        guard Self.isValid(rawValue) else {
            throw MufakatError(
                .malformed,
                "write id '\(rawValue.prefix(80))' is not valid: use 32 lowercase hexadecimal digits, '-', and a number from 1",
                value: String(rawValue.prefix(80)))
        }
        self.rawValue = rawValue
    }

    init(unchecked rawValue: String) { self.rawValue = rawValue }

    public static func isValid(_ rawValue: String) -> Bool {
        let bytes = Array(rawValue.utf8)
        guard bytes.count >= randomDigits + 2, bytes.count <= randomDigits + 1 + maxNumberDigits,
            bytes[randomDigits] == UInt8(ascii: "-")
        else { return false }
        let isHex = { (byte: UInt8) in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
        }
        guard bytes[..<randomDigits].allSatisfy(isHex) else { return false }
        let number = bytes[(randomDigits + 1)...]
        guard number.first != UInt8(ascii: "0"), number.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return false
        }
        return UInt64(String(decoding: number, as: UTF8.self)) != nil
    }

    /// The dot a pending write's entries carry on the laptop that made it, until the hub
    /// names the write: `w-<write id>`, counter 1. It is never sent: a push carries the write
    /// itself, and the hub's dot replaces it.
    public var localDot: Dot {
        Dot(replica: ReplicaID(unchecked: Self.localActorPrefix + rawValue), counter: 1)
    }

    /// The write id a local dot stands for; `nil` for a dot the hub (or, before 0.8, a
    /// laptop) issued.
    public init?(localDot dot: Dot) {
        let raw = dot.replica.rawValue
        guard dot.counter == 1, raw.hasPrefix(Self.localActorPrefix) else { return nil }
        let id = String(raw.dropFirst(Self.localActorPrefix.count))
        guard Self.isValid(id) else { return nil }
        self.rawValue = id
    }

    /// Byte order.
    public static func < (lhs: WriteID, rhs: WriteID) -> Bool { lhs.rawValue.utf8Precedes(rhs.rawValue) }

    public var description: String { rawValue }
}

/// Hands out the write ids of one local transaction: random bits drawn once, then numbers
/// from 1.
///
/// Use one per transaction and never keep one across transactions: the random part is what
/// makes a write id unique, and a transaction is the unit a restore or a copy cannot split.
public struct WriteIDSource: Sendable {
    private let prefix: String
    private var number: UInt64 = 0

    public init() {
        var generator = SystemRandomNumberGenerator()
        self.init(using: &generator)
    }

    /// A source drawing its random part from `generator`; tests use a seeded one.
    public init<G: RandomNumberGenerator>(using generator: inout G) {
        var hex = ""
        for _ in 0..<2 {
            let bits = String(generator.next() as UInt64, radix: 16)
            hex += String(repeating: "0", count: 16 - bits.count) + bits
        }
        prefix = hex + "-"
    }

    public mutating func next() -> WriteID {
        number += 1
        return WriteID(unchecked: prefix + String(number))
    }
}

extension WriteID {
    /// The write's **tag**: the first 128 bits of SHA-256 of the id's random part, in
    /// lowercase hex, then `-` and the write's number (PROTOCOL.md §13.5).
    ///
    /// A hub keeps write names by tag and publishes tags beside the entries it serves, never
    /// the ids: a relay then teaches a restored hub which dot a write already has, while
    /// nobody who pulled a tag can push a write under its id. Writes of one transaction share
    /// the tag's random part, as their ids do.
    public var tag: String {
        let random = rawValue.utf8.prefix(Self.randomDigits)
        let digest = SHA256.hash(data: Array(random))
        let hex = digest.prefix(16).map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
        }.joined()
        return hex + String(rawValue.dropFirst(Self.randomDigits))
    }
}

/// The tags of a record state's writes, by dot (PROTOCOL.md §13.5): what a hub served beside
/// the state, kept with it, and sent back with it in a relay.
public enum RecordTags {
    /// Most tags kept of writes the state no longer holds an entry of (replaced since).
    public static let maxReplaced = 32

    /// The tags of `tags` whose dots still hold an entry in `state`, and of the latest
    /// ``maxReplaced`` writes it has seen but replaced (greatest dots first): a restored hub
    /// learns from them that a write a copy pushes again was named, and replaced, already.
    public static func pruned(_ tags: [Dot: String], to state: RecordState) -> [Dot: String] {
        guard !tags.isEmpty else { return [:] }
        let live = Set(state.fields.values.joined().map(\.dot))
        var kept = tags.filter { live.contains($0.key) }
        let replaced = tags.keys.filter { !live.contains($0) && state.context.contains($0) }.sorted(by: >).prefix(maxReplaced)
        for dot in replaced { kept[dot] = tags[dot] }
        return kept
    }

    /// The canonical text: `{"actor:counter":"tag",…}`, keys in UTF-8 byte order.
    public static func json(_ tags: [Dot: String]) -> String {
        var output: [UInt8] = [UInt8(ascii: "{")]
        let keyed = tags.map { ("\($0.key.replica.rawValue):\($0.key.counter)", $0.value) }.sorted { $0.0.utf8Precedes($1.0) }
        for (index, item) in keyed.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(item.0, to: &output)
            output.append(UInt8(ascii: ":"))
            CanonicalJSON.appendString(item.1, to: &output)
        }
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether `text` has a tag's shape: 32 lowercase hex digits, `-`, a number from 1.
    public static func isTag(_ text: String) -> Bool { WriteID.isValid(text) }

    /// Reads ``json(_:)`` text back; `nil` for text that is not such an object.
    public static func parse(_ text: String) -> [Dot: String]? {
        guard let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: String]
        else { return nil }
        var tags: [Dot: String] = [:]
        for (key, tag) in object {
            guard let dot = dot(key), isTag(tag) else { return nil }
            tags[dot] = tag
        }
        return tags
    }

    /// `actor:counter` read back.
    public static func dot(_ key: String) -> Dot? {
        guard let colon = key.lastIndex(of: ":"), let counter = UInt64(key[key.index(after: colon)...]), counter > 0,
            let actor = try? ReplicaID(String(key[..<colon]))
        else { return nil }
        return Dot(replica: actor, counter: counter)
    }
}
