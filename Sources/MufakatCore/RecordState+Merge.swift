extension RecordState {
    /// Combines `other` into this state: the union of what both have seen.
    ///
    /// The context becomes the pointwise maximum. For each field an entry is kept when both
    /// states hold it, or when only one does and the other has not seen its dot; an entry
    /// one side holds and the other has seen but no longer holds was superseded, and goes.
    ///
    /// - Throws: ``MufakatError/Code/corruption`` when both states hold the same dot with
    ///   different contents. That only happens when data was altered or a replica reused a
    ///   counter, and picking one would silently lose a write; the merge changes nothing.
    public mutating func merge(_ other: RecordState) throws(MufakatError) {
        var merged: [String: [FieldEntry]] = [:]
        merged.reserveCapacity(max(fields.count, other.fields.count))
        for (name, mine) in fields {
            let entries = try Self.mergeEntries(
                name, mine, context, other.fields[name] ?? [], other.context)
            if !entries.isEmpty { merged[name] = entries }
        }
        for (name, theirs) in other.fields where fields[name] == nil {
            let entries = theirs.filter { !context.contains($0.dot) }
            if !entries.isEmpty { merged[name] = entries }
        }
        fields = merged
        context.merge(other.context)
    }

    public func merging(_ other: RecordState) throws(MufakatError) -> RecordState {
        var copy = self
        try copy.merge(other)
        return copy
    }

    /// Merge-join of two dot-sorted entry lists.
    private static func mergeEntries(
        _ name: String,
        _ left: [FieldEntry], _ leftContext: VersionVector,
        _ right: [FieldEntry], _ rightContext: VersionVector
    ) throws(MufakatError) -> [FieldEntry] {
        var result: [FieldEntry] = []
        result.reserveCapacity(max(left.count, right.count))
        var i = 0
        var j = 0
        while i < left.count || j < right.count {
            if j == right.count || (i < left.count && left[i].dot < right[j].dot) {
                if !rightContext.contains(left[i].dot) { result.append(left[i]) }
                i += 1
            } else if i == left.count || right[j].dot < left[i].dot {
                if !leftContext.contains(right[j].dot) { result.append(right[j]) }
                j += 1
            } else {
                guard left[i] == right[j] else {
                    throw MufakatError(
                        .corruption,
                        "field '\(name)' holds two different values for write \(left[i].dot) ('\(left[i].value.text)' and '\(right[j].value.text)'); refusing to pick one",
                        value: left[i].dot.description)
                }
                result.append(left[i])
                i += 1
                j += 1
            }
        }
        return result
    }
}
