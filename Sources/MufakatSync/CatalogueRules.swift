import MufakatCore

/// The catalogue's rules on a whole record, beyond each value's: ids made by the
/// collection's id rule, required fields filled. The hub applies them after ``PushRules``'
/// sync rules, to what a push brings new, so a record stored before a rule existed can
/// still be edited.
///
/// References are not checked: offline writers create records in any order, so a
/// reference may name a record nobody has synced yet; views show it as missing.
public enum CatalogueRules {
    /// Checks `pushed`, whose merge with the hub's `stored` state gives `merged`.
    ///
    /// In this order:
    /// 1. `bad-id`: a record new to the hub, or a new write to a key field, must leave an id
    ///    the collection's rule gives — a slug, `<subject>:<ask>`, or the natural-key hash of
    ///    its key fields (PROTOCOL.md §6.8). A tombstone without key values (written by
    ///    versions before whole deletes) is not checked.
    /// 2. `missing-field`: a live record new to the hub, revived, or given a new write to a
    ///    required field, must hold a value in every required field.
    public static func check(_ pushed: ReplicatedRecord, stored: RecordState?, merged: RecordState) -> RecordRejection? {
        guard let schema = try? Catalogue.collection(named: pushed.collection) else { return nil }
        let known = stored?.context ?? VersionVector()
        let newFields = Set(merged.fields.compactMap { name, entries in
            entries.contains { !known.contains($0.dot) } ? name : nil
        })

        let keys = schema.idRule.keyFields
        if let stored {
            // A new write that changes a key field's key text (clearing it included) makes
            // another record's id: refused, whatever else is wrong.
            let changed = keys.filter { key in
                newFields.contains(key)
                    && RecordIDs.keyText(merged.displayValue(of: key)) != RecordIDs.keyText(stored.displayValue(of: key))
                    && stored.displayValue(of: key) != nil
            }
            if !changed.isEmpty {
                return RecordRejection(
                    .badID, fields: changed, "a write changes key fields, which make the id (\(idRuleText(schema)))")
            }
        }
        if stored == nil || keys.contains(where: newFields.contains) {
            let problems = schema.problems(withID: pushed.id, document: merged.document)
            if !problems.isEmpty {
                return RecordRejection(
                    .badID, fields: keys.filter(newFields.contains),
                    "the id is not what the \(schema.name) id rule gives for its fields (\(idRuleText(schema)))")
            }
        }

        if !merged.isDeleted,
            stored == nil || stored!.isDeleted || schema.requiredFields.contains(where: { newFields.contains($0.name) })
        {
            let missing = schema.requiredFields.map(\.name).filter { name in
                !(merged.fields[name] ?? []).contains { !$0.value.isNull }
            }
            if !missing.isEmpty {
                return RecordRejection(
                    .missingField, fields: missing, "a live record holds a value in every required field")
            }
        }

        return nil
    }

    static func idRuleText(_ schema: CollectionSchema) -> String {
        switch schema.idRule {
        case .slug: return "a slug: a-z, 0-9 and '-'"
        case .composite(let keys): return keys.map { "<\($0)>" }.joined(separator: ":")
        case .naturalKey(let prefix, let keys): return "\(prefix) + a hash of \(keys.joined(separator: ", "))"
        case .generated: return "any valid id"
        }
    }
}

extension PushRules {
    /// The hub's whole check of one pushed record: the sync rules
    /// (``admit(_:stored:pusher:counter:)``), then, with `catalogue`, the record rules
    /// of ``CatalogueRules``. (The sync simulation leaves the latter out: its records carry
    /// only the fields its schedules write.)
    ///
    /// Between the two, the write rights of `writer` (``WriteRights``), judged on the
    /// stored state and the merged one, when the push brings writes of the pusher's own —
    /// or, in re-seed mode, any write new to the hub: a relayer's token must be one that may
    /// write the record, since a relayed write cannot be told from one made up (the others
    /// come back from their own organisation's replicas or a coordinator's).
    /// `organizationTypes` gives the `type` candidates of an organisation the hub holds.
    public func admit(
        _ pushed: ReplicatedRecord, stored: RecordState?, pusher: ReplicaID, counter: UInt64, catalogue: Bool,
        writer: Writer? = nil, organizationTypes: (String) -> [String] = { _ in [] },
        owner: (Dot) -> RecordKey? = { _ in nil }
    ) -> Admission {
        let admission = admit(pushed, stored: stored, pusher: pusher, counter: counter, owner: owner)
        guard catalogue, case .store(let merged) = admission else { return admission }
        if let writer, let schema = try? Catalogue.collection(named: pushed.collection) {
            let known = stored?.context ?? VersionVector()
            // A write of the pusher's own (in re-seed mode, any new write), or a context widened
            // without one: either changes the stored record, so either needs the right.
            let own = merged.fields.values.joined().contains { !known.contains($0.dot) && (relay || $0.dot.replica == pusher) }
                || merged.context.counters.contains { $0.value > known[$0.key] && (relay || $0.key == pusher) }
            if own, let refusal = WriteRights.refusal(
                writer: writer, schema: schema, id: pushed.id, before: stored, after: merged, organizationTypes: organizationTypes)
            {
                return .reject(RecordRejection(refusal))
            }
        }
        if let rejection = CatalogueRules.check(pushed, stored: stored, merged: merged) {
            return .reject(rejection)
        }
        return admission
    }
}
