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
    /// Whether a person needs to look at this record: some field holds several entries,
    /// or the record is deleted yet still holds a value (an edit made concurrently with
    /// the delete).
    public var isConflicted: Bool {
        if fields.values.contains(where: { $0.count > 1 && !Self.allEqual($0) }) { return true }
        return isDeleted && fields.contains { $0.key != Self.deletedField && $0.value.contains { !$0.value.isNull } }
    }

    /// Whether concurrent entries agree: two people who typed the same value did not
    /// disagree, so that is no conflict to show (the entries stay until the next write).
    static func allEqual(_ entries: [FieldEntry]) -> Bool {
        entries.dropFirst().allSatisfy { $0.value == entries[0].value }
    }

    /// Every conflicted field with all its candidates, sorted by field name. Fields whose
    /// concurrent entries all hold the same value are not listed: nobody disagreed.
    ///
    /// A field edited on one replica while another deleted the record shows two candidates:
    /// the edit and the deletion (``FieldConflict/Candidate/isDeletion``).
    public var conflicts: [FieldConflict] {
        let deletionDots = Set((fields[Self.deletedField] ?? []).filter { $0.value == .bool(true) }.map(\.dot))
        let deleted = isDeleted
        let deletion = deleted ? fields[Self.deletedField].map(displayEntry(of:)) : nil
        var result: [FieldConflict] = []
        for (name, entries) in fields {
            var candidates = entries.map {
                FieldConflict.Candidate(
                    value: $0.value, author: $0.author, dot: $0.dot, time: $0.time,
                    isDeletion: name != Self.deletedField && $0.value.isNull && deletionDots.contains($0.dot))
            }
            if candidates.count == 1, name != Self.deletedField, deleted, !entries[0].value.isNull,
                let deletion
            {
                candidates.append(.init(
                    value: .null, author: deletion.author, dot: deletion.dot, time: deletion.time,
                    isDeletion: true))
            }
            guard candidates.count > 1, Set(candidates.map(\.value)).count > 1 else { continue }
            candidates.sort { FieldEntry.displays($0.time, $0.dot, over: $1.time, $1.dot) }
            // One write held under two dots — re-stamped by a restored copy while another
            // replica relayed the original — is one candidate: same value, time and author.
            var shown: [FieldConflict.Candidate] = []
            for candidate in candidates where !shown.contains(where: {
                $0.value == candidate.value && $0.time == candidate.time && $0.author == candidate.author
            }) {
                shown.append(candidate)
            }
            candidates = shown
            result.append(FieldConflict(field: name, candidates: candidates))
        }
        return result.sorted { $0.field < $1.field }
    }

    /// The values a resolve of `field` to `value` writes.
    ///
    /// A resolve is an ordinary write: having seen every candidate, it replaces them all on
    /// every replica once merged. Choosing a value for a deleted record brings the record
    /// back, as any `put` on a deleted record does.
    public func resolutionValues(field: String, value: FieldValue) -> [String: FieldValue] {
        var values = [field: value]
        if field != Self.deletedField, isDeleted, !value.isNull {
            values[Self.deletedField] = .bool(false)
        }
        return values
    }
}
