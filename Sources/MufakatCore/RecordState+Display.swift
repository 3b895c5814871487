extension RecordState {
    /// What a person sees: each field's display value, cleared fields left out, and the
    /// reserved `_deleted` field left out (see ``isDeleted``).
    ///
    /// A conflicted field shows the candidate with the greatest `(time, replica)`; the
    /// others stay in the state until resolved.
    public var document: [String: FieldValue] {
        var document: [String: FieldValue] = [:]
        for (name, entries) in fields where name != Self.deletedField {
            let value = displayEntry(of: entries).value
            if !value.isNull { document[name] = value }
        }
        return document
    }

    /// The display value of one field, `nil` when it is empty or cleared.
    public func displayValue(of field: String) -> FieldValue? {
        guard let entries = fields[field] else { return nil }
        let value = displayEntry(of: entries).value
        return value.isNull ? nil : value
    }

    /// Whether writing `values` would change nothing a person can see or that needs
    /// syncing: each named field already holds exactly that one value, without conflict.
    ///
    /// The CLI checks this before allocating a dot, so re-importing the same spreadsheet
    /// writes nothing and leaves the digest unchanged.
    public func wouldBeUnchanged(by values: [String: FieldValue]) -> Bool {
        values.allSatisfy { name, value in
            guard let entries = fields[name] else { return value.isNull }
            return entries.allSatisfy { $0.value == value }
        }
    }
}
