import Crypto

/// The SHA-256 digest of a whole store: equal digests mean identical data.
///
/// Feed it every record in `(collection, id)` order (UTF-8 byte order); it hashes each
/// record's canonical line followed by `\n`. Tombstones (deleted records) count: a replica
/// that missed a delete has a different digest.
///
/// ```swift
/// var digest = StoreDigest()
/// for record in recordsInOrder { try digest.add(record) }
/// print(digest.hexString)
/// ```
public struct StoreDigest {
    private var hasher = SHA256()
    private var last: (collection: String, id: String)?
    public private(set) var count = 0

    public init() {}

    public mutating func add(_ record: ReplicatedRecord) throws(MufakatError) {
        try add(line: record.canonicalJSON, collection: record.collection, id: record.id)
    }

    /// Adds a record from its state's text in either form, as a store holds it. The digest
    /// hashes the expanded canonical line whatever the stored form (PROTOCOL.md §6.5), so a
    /// replica of any version gives the same digest for the same data.
    ///
    /// A canonical compact text, as the stores write it, is turned into the expanded one by
    /// copying bytes (``CompactTranscoder``); any other text is decoded and written again.
    public mutating func add(collection: String, id: String, stateJSON: String) throws(MufakatError) {
        let expanded = try CompactTranscoder.expandedJSON(stored: stateJSON)
        try add(line: ReplicatedRecord.line(collection: collection, id: id, stateJSON: expanded), collection: collection, id: id)
    }

    private mutating func add(line: String, collection: String, id: String) throws(MufakatError) {
        if let last, !ReplicatedRecord.precedes(last, (collection, id)) {
            throw MufakatError(
                .malformed, "records must be added in (collection, id) order without repeats: \(collection)/\(id) came after \(last.collection)/\(last.id)")
        }
        last = (collection, id)
        hasher.update(data: Array(line.utf8))
        hasher.update(data: [UInt8(ascii: "\n")])
        count += 1
    }

    /// The digest as 64 lowercase hexadecimal digits.
    public var hexString: String {
        hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The digest of `records` in any order.
    public static func of(_ records: some Sequence<ReplicatedRecord>) throws(MufakatError) -> String {
        var digest = StoreDigest()
        for record in records.sorted(by: { precedes(($0.collection, $0.id), ($1.collection, $1.id)) }) {
            try digest.add(record)
        }
        return digest.hexString
    }

    private static func precedes(_ lhs: (String, String), _ rhs: (String, String)) -> Bool {
        ReplicatedRecord.precedes((lhs.0, lhs.1), (rhs.0, rhs.1))
    }
}
