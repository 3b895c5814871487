extension CollectionSchema {
    /// Parses `field=value` assignments as a person typed them.
    ///
    /// Every problem is collected — unknown fields, bad values, a field named twice — so
    /// the person sees them all at once. An empty value clears the field.
    public func parse(_ assignments: [(field: String, value: String)]) -> (values: [String: FieldValue], problems: [ValidationProblem]) {
        var values: [String: FieldValue] = [:]
        var problems: [ValidationProblem] = []
        for (name, raw) in assignments {
            guard let spec = field(named: name) ?? fields.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                problems.append(ValidationProblem(
                    field: name,
                    "unknown field; the fields of \(self.name) are \(fieldNames.joined(separator: ", "))"))
                continue
            }
            guard values[spec.name] == nil else {
                problems.append(ValidationProblem(field: spec.name, "given more than once"))
                continue
            }
            switch spec.type.parse(raw) {
            case .success(let value): values[spec.name] = value
            case .failure(let failure):
                problems.append(ValidationProblem(field: spec.name, failure.message(for: raw)))
            }
        }
        return (values, problems)
    }

    /// Problems with a whole document as it will stand after a write: required fields
    /// missing or cleared.
    public func problems(in document: [String: FieldValue]) -> [ValidationProblem] {
        requiredFields.compactMap { spec in
            document[spec.name] == nil
                ? ValidationProblem(field: spec.name, "is required (\(spec.type.accepted))")
                : nil
        }
    }

    /// The id a document must have under this collection's ``IDRule``, or `nil` when the
    /// rule leaves the id free (``IDRule/generated(prefix:)``) or the document lacks the
    /// fields to derive it.
    public func derivedID(for document: [String: FieldValue]) -> String? {
        switch idRule {
        case .generated:
            return nil
        case .slug(let source):
            guard let value = document[source] else { return nil }
            let slug = RecordIDs.slug(value.text)
            return slug.isEmpty ? nil : slug
        case .composite(let keys):
            let parts = keys.map { document[$0]?.text }
            guard parts.allSatisfy({ $0 != nil }) else { return nil }
            return parts.map { $0! }.joined(separator: ":")
        case .naturalKey(let prefix, let keys):
            let required = Set(requiredFields.map(\.name))
            guard keys.allSatisfy({ !required.contains($0) || document[$0] != nil }) else { return nil }
            return RecordIDs.naturalKey(prefix: prefix, values: keys.map { document[$0] })
        }
    }

    /// The key fields a composite id spells out, for filling in a new record's fields from
    /// its id (`put positions iom:ask-1 stance=…` sets subject `iom` and ask `ask-1`).
    public func keyValues(fromID id: String) -> [String: FieldValue] {
        guard case .composite(let keys) = idRule else { return [:] }
        let parts = id.split(separator: ":", maxSplits: keys.count - 1, omittingEmptySubsequences: false)
        guard parts.count == keys.count else { return [:] }
        var values: [String: FieldValue] = [:]
        for (key, part) in zip(keys, parts) {
            guard let spec = field(named: key), case .success(let value) = spec.type.parse(String(part)),
                !value.isNull
            else { return [:] }
            values[key] = value
        }
        return values
    }

    /// Key fields that `values` would change in an existing record: they make its id, so
    /// they never change. A value that compares equal (``RecordIDs/keyText(_:)``: case,
    /// Unicode form and spacing aside) is no change, and is stored as typed.
    public func keyChanges(in values: [String: FieldValue], of existing: RecordState, id: String) -> [ValidationProblem] {
        let fromID = keyValues(fromID: id)
        var problems: [ValidationProblem] = []
        for key in idRule.keyFields {
            guard let new = values[key], let old = existing.displayValue(of: key) ?? fromID[key],
                RecordIDs.keyText(new) != RecordIDs.keyText(old)
            else { continue }
            let instead: String
            switch idRule {
            case .naturalKey:
                instead = "to enter a different figure, use 'mufakat new \(name) …' with the new \(key)"
            default:
                instead = "a record with another \(key) is another record: write to its own id (\(idRule.keyFields.map { "<\($0)>" }.joined(separator: ":")))"
            }
            problems.append(ValidationProblem(
                field: key,
                "is part of the id of \(name) \(id) and never changes (it is '\(old.text)', not '\(new.isNull ? "" : new.text)'); \(instead)"))
        }
        return problems
    }

    /// Checks that `id` fits this collection: allowed characters, and for derived ids,
    /// that it is what the document derives.
    public func problems(withID id: String, document: [String: FieldValue]) -> [ValidationProblem] {
        if let problem = RecordIDs.problem(with: id) { return [ValidationProblem(field: nil, problem)] }
        switch idRule {
        case .slug:
            if id != RecordIDs.slug(id) {
                return [ValidationProblem(
                    field: nil, "id '\(id)' is not a slug; \(name) ids use a-z, 0-9 and '-', e.g. '\(RecordIDs.slug(id))'")]
            }
            return []
        case .generated:
            return []
        case .composite(let keys):
            if let expected = derivedID(for: document), expected != id {
                return [ValidationProblem(
                    field: nil,
                    "id '\(id)' does not match its fields; \(name) ids are \(keys.map { "<\($0)>" }.joined(separator: ":")), here '\(expected)'")]
            }
            return []
        case .naturalKey(let prefix, let keys):
            // A record an earlier version made keeps the id it derived (before NFC and case
            // folding), so it can still be written.
            if let expected = derivedID(for: document), expected != id,
                RecordIDs.legacyNaturalKey(prefix: prefix, values: keys.map { document[$0] }) != id
            {
                return [ValidationProblem(
                    field: nil,
                    "id '\(id)' does not match its fields; \(name) ids are derived from \(keys.joined(separator: ", ")), which give '\(expected)' (use 'new' to enter a different figure)")]
            }
            return []
        }
    }

    /// Checks a record state pushed by another replica: every field known, every value of
    /// every entry in the stored form of its type (``FieldType/storedFormProblem(_:)``) —
    /// only entries whose dot `known` does not contain (the hub checked the others when
    /// they came).
    /// Required fields, ids and references are the hub's ``CatalogueRules``: they depend on
    /// what the hub holds.
    public func problems(in state: RecordState, newerThan known: VersionVector = VersionVector()) -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        for (name, all) in state.fields.sorted(by: { $0.key < $1.key }) {
            let entries = all.filter { !known.contains($0.dot) }
            if entries.isEmpty { continue }
            if name == RecordState.deletedField {
                if !entries.allSatisfy({ if case .bool = $0.value { return true } else { return false } }) {
                    problems.append(ValidationProblem(field: name, "must be true or false"))
                }
                continue
            }
            guard let spec = field(named: name) else {
                problems.append(ValidationProblem(
                    field: name, "unknown field; the fields of \(self.name) are \(fieldNames.joined(separator: ", "))",
                    rule: "unknown field"))
                continue
            }
            for entry in entries {
                guard let rule = spec.type.storedFormProblem(entry.value) else { continue }
                problems.append(ValidationProblem(
                    field: name, "'\(entry.value.text.prefix(60))' written by \(entry.dot) \(rule)", rule: rule))
            }
        }
        return problems
    }
}
