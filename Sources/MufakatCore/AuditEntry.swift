import Crypto
import Foundation

/// One accepted change in the hub's audit log (PROTOCOL.md §6.11): who wrote it, where, and
/// what each changed field showed before and after. Each entry carries the hash of the one
/// before it, so an edited, inserted or deleted line breaks the chain.
///
/// No values beyond the record's own display values and the names on tokens are kept.
public struct AuditEntry: Hashable, Sendable, Codable {
    /// The entry's number in the log: 1, 2, 3… with no gap.
    public var entry: Int64
    /// The hub sequence the change got.
    public var seq: UInt64
    /// When the hub stored it, milliseconds since 1970 (the hub's clock).
    public var time: Int64
    public var token: String
    /// The name on the token.
    public var name: String
    public var org: String
    public var role: String
    public var replica: String
    public var collection: String
    public var id: String
    /// The organisation the record stayed with when this change was stored; `nil`:
    /// published.
    public var inHouse: String?
    /// The organisation the record stayed with before this change (`nil`: published, or
    /// new): a reader outside it sees no `old` values of this change.
    public var inHouseBefore: String?
    /// `nil` for a change; `start` for the entry that opens the log (its `seq` is the first
    /// hub sequence whose change the log holds), `pruned` for the one that records a
    /// removal by the retention setting (entries through `through`, the last of which had
    /// the hash `throughHash`, were removed; `seq` as for `start`).
    public var kind: String?
    public var through: Int64?
    public var throughHash: String?
    /// The dots of the writes the change brought, `replica:counter`, sorted.
    public var dots: [String]
    /// Each field the change wrote or whose shown value it changed.
    public var changes: [String: Change]
    /// The hash of the entry before (`""` for the first entry ever).
    public var prev: String
    /// SHA-256 (hex) of `prev`, a line feed, and ``body``.
    public var hash: String

    public struct Change: Hashable, Sendable, Codable {
        /// The shown value before, as a person types it; `nil`: empty.
        public var old: String?
        /// The value the change wrote to the field (when it wrote several candidates, the one
        /// shown first); for a field it did not write, the shown value after. `nil`: empty.
        public var new: String?
        /// The field holds several candidates after the change (a conflict).
        public var conflict: Bool?
        /// The field held several candidates before and one after: a conflict settled.
        public var resolved: Bool?

        public init(old: String?, new: String?, conflict: Bool? = nil, resolved: Bool? = nil) {
            self.old = old
            self.new = new
            self.conflict = conflict
            self.resolved = resolved
        }
    }

    public init(
        entry: Int64, seq: UInt64, time: Int64, token: String, name: String, org: String, role: String, replica: String,
        collection: String, id: String, inHouse: String?, inHouseBefore: String? = nil, dots: [String], changes: [String: Change],
        prev: String, kind: String? = nil, through: Int64? = nil, throughHash: String? = nil
    ) {
        self.inHouseBefore = inHouseBefore
        self.kind = kind
        self.through = through
        self.throughHash = throughHash
        self.entry = entry
        self.seq = seq
        self.time = time
        self.token = token
        self.name = name
        self.org = org
        self.role = role
        self.replica = replica
        self.collection = collection
        self.id = id
        self.inHouse = inHouse
        self.dots = dots
        self.changes = changes
        self.prev = prev
        self.hash = ""
        self.hash = computedHash
    }

    /// Every member but `prev` and `hash`, as JSON with sorted keys and no spaces: what the
    /// hash covers.
    public var body: String {
        var copy = self
        copy.prev = ""
        copy.hash = ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Body(copy))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The hash this entry's contents and `prev` give.
    public var computedHash: String {
        SHA256.hash(data: Array((prev + "\n" + body).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private struct Body: Encodable {
        var entry: Int64, seq: UInt64, time: Int64, token: String, name: String, org: String, role: String, replica: String
        var collection: String, id: String, inHouse: String?, inHouseBefore: String?, dots: [String], changes: [String: Change]
        var kind: String?, through: Int64?, throughHash: String?
        init(_ e: AuditEntry) {
            (entry, seq, time, token, name, org, role, replica) = (e.entry, e.seq, e.time, e.token, e.name, e.org, e.role, e.replica)
            (collection, id, inHouse, inHouseBefore, dots, changes) = (e.collection, e.id, e.inHouse, e.inHouseBefore, e.dots, e.changes)
            (kind, through, throughHash) = (e.kind, e.through, e.throughHash)
        }
    }

    /// What a change from `before` (`nil`: a new record) to `after` wrote or changed, field
    /// by field (`_deleted` included).
    public static func changes(from before: RecordState?, to after: RecordState) -> [String: Change] {
        let seen = before?.context ?? VersionVector()
        var changes: [String: Change] = [:]
        for name in Set(after.fields.keys).union(before.map { Array($0.fields.keys) } ?? []) {
            let old = before?.displayValue(of: name)?.text
            let entries = after.fields[name] ?? []
            let brought = entries.filter { !seen.contains($0.dot) }
            let new: String?
            if brought.isEmpty {
                new = after.displayValue(of: name)?.text
                guard old != new else { continue }
            } else {
                let value = after.displayEntry(of: brought).value
                new = value.isNull ? nil : value.text
            }
            let wasConflicted = (before?.fields[name]?.count ?? 0) > 1
            changes[name] = Change(
                old: old, new: new, conflict: entries.count > 1 ? true : nil,
                resolved: wasConflicted && entries.count == 1 ? true : nil)
        }
        return changes
    }
}
