/// The replicated state of one record: a map of multi-value registers sharing one causal
/// context.
///
/// This is the heart of Mufakat. Every replica holds a `RecordState` per record; writes
/// happen locally and offline; states travel whole and are combined with
/// ``merge(_:)``, which is commutative, associative and idempotent, so every replica that
/// has seen the same writes holds the same state whatever order it saw them in.
///
/// - ``context`` names every write this state has seen.
/// - ``fields`` maps a field name to its entries. One entry is the normal case; several
///   entries are concurrent writes to the same field — a conflict kept for a person.
///
/// ```swift
/// var state = RecordState()
/// try state.write(["stance": .string("ActiveSupport")],
///                 dot: Dot(replica: me, counter: 7), now: clock(), author: "Andi (IOM)")
/// try state.merge(stateFromHub)
/// state.conflicts          // fields with several candidates
/// state.document           // what a person sees
/// ```
public struct RecordState: Hashable, Sendable {
    /// The reserved field a delete sets to `true` and a revive to `false`.
    public static let deletedField = "_deleted"

    public internal(set) var context: VersionVector
    /// Field name → entries sorted by dot. Never holds an empty array.
    public internal(set) var fields: [String: [FieldEntry]]

    /// A record nobody has written yet.
    public init() {
        context = VersionVector()
        fields = [:]
    }

    /// Builds a state from parts and checks its invariants: every entry's dot is in the
    /// context, entries are unique per field, no field is empty.
    public init(context: VersionVector, fields: [String: [FieldEntry]]) throws(MufakatError) {
        var normalized: [String: [FieldEntry]] = [:]
        for (name, entries) in fields {
            guard !entries.isEmpty else {
                throw MufakatError(.malformed, "field '\(name)' has no entries", value: name)
            }
            let sorted = entries.sorted { $0.dot < $1.dot }
            for (index, entry) in sorted.enumerated() {
                guard context.contains(entry.dot) else {
                    throw MufakatError(
                        .malformed,
                        "field '\(name)' has an entry with dot \(entry.dot) that the record's context does not contain",
                        value: name)
                }
                if index > 0, sorted[index - 1].dot == entry.dot {
                    throw MufakatError(
                        .corruption, "field '\(name)' holds dot \(entry.dot) twice", value: name)
                }
            }
            normalized[name] = sorted
        }
        self.context = context
        self.fields = normalized
    }

    /// The greatest write time in the record, 0 when it has none.
    public var latestTime: Int64 {
        fields.values.lazy.flatMap { $0 }.map(\.time).max() ?? 0
    }

    /// Whether the record currently shows as deleted.
    public var isDeleted: Bool {
        guard let entries = fields[Self.deletedField] else { return false }
        return displayEntry(of: entries).value == .bool(true)
    }

    /// Writes `values` as one operation named `dot`.
    ///
    /// Each written field's entries are replaced by the single new entry: this replica has
    /// seen every entry it holds, so the new value supersedes them all — which is also how a
    /// resolve clears a conflict. Fields not named keep their entries.
    ///
    /// The entry's time is `now`, but never less than 1 + the greatest time already in the
    /// record: a laptop whose clock is a year behind still writes a value that displays as
    /// the newest.
    ///
    /// - Throws: ``MufakatError/Code/staleDot`` when the context already contains `dot`
    ///   (the replica's counter went backwards, e.g. restored from an old backup).
    public mutating func write(
        _ values: [String: FieldValue], dot: Dot, now: Int64, author: String
    ) throws(MufakatError) {
        guard !context.contains(dot) else {
            throw MufakatError(
                .staleDot,
                "write \(dot) is not newer than what this record has seen (\(context[dot.replica])); the replica's counter went backwards",
                value: dot.description)
        }
        // Saturating: a record holding the greatest time there is (only a hostile or broken
        // peer writes one) must not crash a write; ties then fall to the replica id.
        let latest = latestTime
        let time = max(now, latest == Int64.max ? latest : latest + 1)
        context[dot.replica] = dot.counter
        for (name, value) in values {
            fields[name] = [FieldEntry(dot: dot, value: value, time: time, author: author)]
        }
    }

    /// The values a delete writes: `_deleted = true`, and every other field's display value
    /// written again under the delete's dot.
    ///
    /// The record keeps what it held (the key fields included), so restoring it, or keeping
    /// an edit that raced the delete, brings it back whole. An edit made concurrently
    /// elsewhere stands beside the delete's entry in that field and shows as a conflict
    /// ("record deleted" against the edit) instead of vanishing.
    public var deletionValues: [String: FieldValue] {
        var values: [String: FieldValue] = [Self.deletedField: .bool(true)]
        for (name, entries) in fields where name != Self.deletedField {
            values[name] = displayEntry(of: entries).value
        }
        return values
    }

    /// Deletes the record as one write operation (see ``deletionValues``).
    public mutating func delete(dot: Dot, now: Int64, author: String) throws(MufakatError) {
        try write(deletionValues, dot: dot, now: now, author: author)
    }

    /// The dots of the writes that deleted the record, as it stands: the `_deleted = true`
    /// entries (several after concurrent deletes).
    public var deletionDots: Set<Dot> {
        Set((fields[Self.deletedField] ?? []).filter { $0.value == .bool(true) }.map(\.dot))
    }

    /// The entry that shows when a field has several: greatest `(time, replica)`.
    public func displayEntry(of entries: [FieldEntry]) -> FieldEntry {
        entries.dropFirst().reduce(entries[0]) { best, entry in entry.displays(over: best) ? entry : best }
    }
}
