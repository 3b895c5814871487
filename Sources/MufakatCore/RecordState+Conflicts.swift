/// A field with more than one candidate value, waiting for a person to choose.
public struct FieldConflict: Hashable, Sendable {
    /// One value somebody wrote, with who, where and when.
    public struct Candidate: Hashable, Sendable {
        public var value: FieldValue
        public var author: String
        public var dot: Dot
        public var time: Int64
        /// This candidate is "the record was deleted" rather than a value someone typed.
        public var isDeletion: Bool

        public var replica: ReplicaID { dot.replica }
    }

    public var field: String
    /// Display order: the candidate shown today first.
    public var candidates: [Candidate]
}

extension RecordState {
    /// Whether a person needs to look at this record: exactly when ``conflicts`` lists a
    /// field (so `status`, `list --conflicts` and `resolve` always agree).
    ///
    /// Every stored record asks this, so a live record with one entry per field — nearly all
    /// of them — answers without building candidates.
    public var isConflicted: Bool {
        if !isDeleted, fields.values.allSatisfy({ $0.count <= 1 }) { return false }
        return !conflicts.isEmpty
    }

    /// Every conflicted field with all its candidates, sorted by field name. Fields whose
    /// concurrent entries all hold the same value are not listed: nobody disagreed.
    ///
    /// In a deleted record, a field edited on one replica while another deleted the record
    /// shows the edit and the deletion (``FieldConflict/Candidate/isDeletion``; its value is
    /// what the field held when it was deleted, or null). Two people choosing differently at
    /// once between "deleted" and "kept" show as a conflict in `_deleted`.
    public var conflicts: [FieldConflict] {
        let deleted = isDeleted
        let deletions = deleted ? deletionDots : []
        let deletion = deleted ? fields[Self.deletedField].map(displayEntry(of:)) : nil
        var result: [FieldConflict] = []
        for (name, entries) in fields {
            var candidates = entries.map {
                FieldConflict.Candidate(
                    value: $0.value, author: $0.author, dot: $0.dot, time: $0.time,
                    isDeletion: name != Self.deletedField && deletions.contains($0.dot))
            }
            // A field the delete never wrote (empty when the record was deleted), written
            // concurrently: the edit against the deletion.
            if name != Self.deletedField, let deletion, !candidates.contains(where: \.isDeletion),
                candidates.contains(where: { !$0.value.isNull })
            {
                candidates.append(.init(
                    value: .null, author: deletion.author, dot: deletion.dot, time: deletion.time,
                    isDeletion: true))
            }
            // In a deleted record, an entry holding what the delete kept is no edit against it
            // (the delete raced a restore, or a write of the same value): only `_deleted`
            // is in question then, and it shows in its own field.
            let kept = Set(candidates.filter(\.isDeletion).map(\.value))
            if deleted, name != Self.deletedField {
                candidates.removeAll { !$0.isDeletion && ($0.value.isNull || kept.contains($0.value)) }
            }
            guard candidates.count > 1 else { continue }
            let edits = candidates.filter { !$0.isDeletion }
            // Only deletions (a record deleted twice: nothing to decide while it stays
            // deleted), or only agreeing values: nobody to ask.
            if edits.isEmpty || (edits.count == candidates.count && Set(candidates.map(\.value)).count == 1) { continue }
            candidates.sort { FieldEntry.displays($0.time, $0.dot, over: $1.time, $1.dot) }
            // One write held under two dots — re-stamped by a restored copy while another
            // replica relayed the original — is one candidate: same value, time and author.
            var shown: [FieldConflict.Candidate] = []
            // Concurrent deletes that kept the same value are one "record deleted".
            for candidate in candidates where !shown.contains(where: {
                $0.value == candidate.value && $0.isDeletion == candidate.isDeletion
                    && (candidate.isDeletion || ($0.time == candidate.time && $0.author.utf8Equal(candidate.author)))
            }) {
                shown.append(candidate)
            }
            guard shown.count > 1 else { continue }
            result.append(FieldConflict(field: name, candidates: shown))
        }
        return result.sorted { $0.field < $1.field }
    }

    /// The values a resolve of `field` to `value` writes.
    ///
    /// A resolve is an ordinary write: having seen every candidate, it replaces them all on
    /// every replica once merged.
    ///
    /// - Choosing a value for a deleted record brings the record back whole (its other
    ///   fields kept what they held), as any `put` on a deleted record does.
    /// - Choosing the deletion (`deleting`) deletes the record again, as a whole (see
    ///   ``deletionValues``); every field where the deletion stands against an edit takes
    ///   the deletion's value.
    ///   Someone keeping the edit at the same time elsewhere writes `_deleted = false`: the
    ///   two choices then show as a conflict in `_deleted`, with who made each.
    /// - Choosing in `_deleted` itself: `true` deletes again as above, `false` keeps the
    ///   record.
    public func resolutionValues(field: String, value: FieldValue, deleting: Bool = false) -> [String: FieldValue] {
        if deleting || (field == Self.deletedField && value == .bool(true)) {
            // A delete again, as a whole: every field written again under its dot.
            var values = deletionValues
            for conflict in conflicts where conflict.field != Self.deletedField {
                if let deletion = conflict.candidates.first(where: \.isDeletion) { values[conflict.field] = deletion.value }
            }
            if field != Self.deletedField, values[field] == nil { values[field] = value }
            return values
        }
        var values = [field: value]
        if field != Self.deletedField, isDeleted, !value.isNull {
            values[Self.deletedField] = .bool(false)
        }
        return values
    }
}
