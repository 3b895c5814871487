import Crypto
import Foundation
import GRDB
import MufakatCore

/// Vouchers: the hub's word that it once held a record state (protocol 5,
/// docs/write-naming.md §6).
///
/// A hub restored from a backup lacks the writes it named after that backup, and the laptops
/// that pulled them hold them. A laptop sends such a record back as it received it, with the
/// voucher that came with it; the hub merges it only if the voucher is its own. So a restored
/// hub takes back its lost writes from any laptop without trusting the laptop: a relayer
/// cannot make up a write, change a value or claim another author's name.
///
/// A voucher is HMAC-SHA256 over the record's collection, id and compact state text, under a
/// key kept in the hub file (so every backup carries it), cut to ``voucherBytes`` bytes and
/// written in unpadded base64url.
extension HubStore {
    /// Bytes of a voucher: 96 bits; a forger must guess them online, one push at a time.
    public static let voucherBytes = 12

    static func voucherKey(_ db: Database) throws -> SymmetricKey {
        guard let text = try String.fetchOne(db, cached: "SELECT value FROM meta WHERE key = 'voucherKey'"),
            let bytes = Data(base64Encoded: text), bytes.count == 32
        else {
            throw MufakatError(.corruption, "the hub file holds no readable voucher key; restore it from a backup, or run the hub in re-seed mode")
        }
        return SymmetricKey(data: bytes)
    }

    /// The voucher of `stateJSON` (a state's compact text) and `tagsJSON` (its writes' tags,
    /// ``RecordTags/json(_:)``) for one record, under `key`.
    static func voucher(key: SymmetricKey, collection: String, id: String, stateJSON: String, tagsJSON: String = "{}") -> String {
        var message = Array("mufakat-voucher-2\n".utf8)
        message += Array(collection.utf8) + [0x0A] + Array(id.utf8) + [0x0A] + Array(stateJSON.utf8) + [0x0A] + Array(tagsJSON.utf8)
        let mac = Array(HMAC<SHA256>.authenticationCode(for: message, using: key)).prefix(voucherBytes)
        return Data(mac).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The voucher of one record state and its tags, as the feed sends it beside the record.
    public func voucher(collection: String, id: String, state: RecordState, tags: [Dot: String] = [:]) throws -> String {
        let key = try writer.read { db in try Self.voucherKey(db) }
        return Self.voucher(key: key, collection: collection, id: id, stateJSON: state.compactJSON, tagsJSON: RecordTags.json(tags))
    }

    /// Whether `voucher` is this hub's for that record state and tags. Compares in constant time.
    public func verifyVoucher(_ voucher: String, collection: String, id: String, state: RecordState, tags: [Dot: String] = [:]) throws -> Bool {
        Self.constantTimeEqual(voucher, try self.voucher(collection: collection, id: id, state: state, tags: tags))
    }

    /// The tags the hub keeps beside a record's state.
    static func tags(_ db: Database, collection: String, id: String) throws -> [Dot: String] {
        guard let text = try String.fetchOne(db, cached: "SELECT tags FROM records WHERE collection = ? AND id = ?", arguments: [collection, id]) else {
            return [:]
        }
        return RecordTags.parse(text) ?? [:]
    }

    static func saveTags(_ db: Database, collection: String, id: String, _ tags: [Dot: String]) throws {
        try db.execute(
            cached: "UPDATE records SET tags = ? WHERE collection = ? AND id = ?",
            arguments: [tags.isEmpty ? nil : RecordTags.json(tags), collection, id])
    }
}
