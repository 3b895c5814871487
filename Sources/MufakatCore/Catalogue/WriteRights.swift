/// What a token lets its holder do (PROTOCOL.md §6.10). The hub operator gives each token
/// one, and may change it without issuing a new token.
public enum Role: String, Hashable, Sendable, CaseIterable, Codable {
    /// The lead agency's staff: writes every record, receives every record.
    case coordinator
    /// A member organisation's staff: writes what its collection's rule gives its
    /// organisation, receives what is published plus its organisation's drafts.
    case member
    /// Reads what a member of its organisation receives; writes nothing.
    case observer

    /// Whether the holder receives records kept in-house by any organisation.
    public var seesEveryOrganisation: Bool { self == .coordinator }

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Who writes, as the hub knows them from the token: an organisation (an `organizations`
/// id, lower case) and a role.
public struct Writer: Hashable, Sendable {
    public var org: String
    public var role: Role

    public init(org: String, role: Role) {
        self.org = org.lowercased()
        self.role = role
    }
}

/// One collection's rule for members (coordinators write every record, observers none),
/// as data in the catalogue.
public struct WriteRule: Hashable, Sendable {
    public enum Member: Hashable, Sendable {
        /// Every member writes every record: joint work.
        case joint
        /// A member writes a record where one of `fields` names its own organisation
        /// (`id`: the record's id), or where `governmentField` names an organisation whose
        /// `type` is a government body (``Catalogue/governmentTypes``) — before and after
        /// its write.
        case own(fields: [String], governmentField: String? = nil)
    }

    public var member: Member
    /// The rule in words, for `mufakat help COLLECTION` and the catalogue.
    public var summary: String
    /// A field naming the organisation that created the record (an action's `createdBy`):
    /// a member creating a record may only name its own there, and no member changes it
    /// afterwards — else naming another organisation would hand it rights.
    public var creatorField: String?
    /// A field naming the organisation that wrote the value (a position's `assessedBy`): a
    /// member writing it may only name its own, so no member can put another's name to an
    /// assessment.
    public var writerField: String?
    /// Values of a field only a coordinator writes (a report's status `Validated`: the lead
    /// agency checks figures, a member does not validate its own).
    public var coordinatorValues: [String: [String]]

    public init(
        _ member: Member, _ summary: String, creatorField: String? = nil, writerField: String? = nil,
        coordinatorValues: [String: [String]] = [:]
    ) {
        self.member = member
        self.summary = summary
        self.creatorField = creatorField
        self.writerField = writerField
        self.coordinatorValues = coordinatorValues
    }
}

/// A record of this collection stays within one organisation (its own replicas and
/// coordinators) while `field` holds one of `values`; once stored at the hub otherwise, it
/// is published to everyone for good.
public struct InHouseRule: Hashable, Sendable {
    public var field: String
    public var values: [String]
    /// The reference field naming the organisation the record stays with.
    public var organization: String

    /// The organisation `state` stays with, or `nil` when it may be published: a live
    /// record none of whose candidates for `field` is in `values`. A deleted record never
    /// published stays in-house (``HubStore`` keeps a published one published).
    public func organization(of state: RecordState) -> String? {
        let unpublished = state.isDeleted || (state.fields[field] ?? []).contains { entry in
            if case .string(let value) = entry.value { return values.contains(value) }
            return false
        }
        guard unpublished else { return nil }
        return state.strings(of: organization).first?.lowercased() ?? ""
    }
}

/// A field whose value only moves forward through `order` (a report's status: Draft,
/// Submitted, Validated, Retracted): a write may keep it or move it later, never earlier,
/// never clear it.
public struct ForwardOnlyRule: Hashable, Sendable {
    public var field: String
    public var order: [String]
}

/// Why a write is refused by ``WriteRights``: the code the hub answers with, the fields
/// concerned, and a sentence without values.
public struct WriteRefusal: Hashable, Sendable, Error {
    public enum Kind: String, Hashable, Sendable {
        /// The writer's role or organisation gives no right to this write.
        case forbidden
        /// A forward-only field moved back or was cleared.
        case backwardStatus = "backward-status"
    }

    public var kind: Kind
    public var fields: [String]
    public var reason: String
}

/// The write rights of the catalogue, judged the same way by the hub (per pushed record)
/// and by the CLI before it writes offline.
public enum WriteRights {
    /// Checks a write by `writer` that turns `before` (`nil`: a record new to this side)
    /// into `after`; the write's entries are those of `after` under dots `before` has not
    /// seen, and a write that brings none but widens the context still counts as one.
    /// `organizationTypes` gives the `type` candidates of an organisation as this side
    /// holds it (none when it holds no such record).
    ///
    /// 1. an observer writes nothing (`forbidden`);
    /// 2. a member writes a record its collection's ``WriteRule`` gives its organisation,
    ///    as it was and as it becomes (`forbidden`): a member cannot take another's record,
    ///    nor hand its own to another;
    ///    A member's write of the rule's ``WriteRule/writerField`` names only its own
    ///    organisation, and brings none of the rule's ``WriteRule/coordinatorValues``
    ///    (`forbidden`);
    /// 3. for every role, a ``ForwardOnlyRule`` field written anew holds a value at least as
    ///    far along as every value it had (`backward-status`).
    ///
    /// `writeContext` (protocol 5, where the hub names one write at a time): what the write
    /// had seen. An entry of another organisation in the writer field that the write had not
    /// seen — a colleague's concurrent assessment — is not one it leaves standing: the two
    /// stand side by side as a conflict, for a person to settle.
    public static func refusal(
        writer: Writer, schema: CollectionSchema, id: String, before: RecordState?, after: RecordState,
        writeContext: VersionVector? = nil, organizationTypes: (String) -> [String]
    ) -> WriteRefusal? {
        let seen = before?.context ?? VersionVector()
        let written = Set(after.fields.compactMap { name, entries in entries.contains { !seen.contains($0.dot) } ? name : nil })
        guard !written.isEmpty || after.context.counters.contains(where: { $0.value > seen[$0.key] }) else { return nil }
        switch writer.role {
        case .observer:
            return WriteRefusal(
                kind: .forbidden, fields: [],
                reason: "an observer's token reads only; ask the hub operator for a member's token to write")
        case .member:
            if let creator = schema.writeRule.creatorField, written.contains(creator) {
                let named = after.strings(of: creator)
                if before != nil || !named.allSatisfy({ $0.lowercased() == writer.org }) {
                    return WriteRefusal(
                        kind: .forbidden, fields: [creator],
                        reason: before == nil
                            ? "a member of \(writer.org) may only name its own organization in \(creator)"
                            : "\(creator) names who created the record; a member may not change it")
                }
            }
            if let field = schema.writeRule.writerField {
                // A value the field held already (a delete or restore writes every value
                // again) is no new claim; anything else a member brings names its own
                // organisation — not another, not none.
                let named = changed(after, field, before, seen).map { entry -> String in
                    if case .string(let text) = entry.value { return text }
                    return ""
                }
                // Nor may a member change what the record says and leave it assessed by
                // another organisation: the words would be put in its name.
                let edits = written.contains { other in
                    other != field && other != RecordState.deletedField && !changed(after, other, before, seen).isEmpty
                }
                let standing = (after.fields[field] ?? []).filter { entry in
                    guard writeContext.map({ $0.contains(entry.dot) || !seen.contains(entry.dot) }) ?? true else { return false }
                    guard case .string(let text) = entry.value else { return false }
                    return text.lowercased() != writer.org
                }
                if !named.allSatisfy({ $0.lowercased() == writer.org }) || (edits && !standing.isEmpty && after.isDeleted == false) {
                    return WriteRefusal(
                        kind: .forbidden, fields: [field],
                        reason: "\(field) names who made the assessment; a member of \(writer.org) may only name its own organization there (mufakat fills it in)")
                }
            }
            for (field, values) in schema.writeRule.coordinatorValues.sorted(by: { $0.key < $1.key }) where written.contains(field) {
                let reserved = changed(after, field, before, seen).contains { entry in
                    if case .string(let text) = entry.value { return values.contains(text) }
                    return false
                }
                if reserved {
                    return WriteRefusal(
                        kind: .forbidden, fields: [field],
                        reason: "only a coordinator sets \(field) to \(values.joined(separator: " or ")); ask the lead agency to check the figure")
                }
            }
            if case .own(let fields, let government) = schema.writeRule.member {
                for (state, moment) in [(before, "it is not its organization's"), (after, "the write would make it another organization's")] {
                    guard let state else { continue }
                    if !owns(state, writer: writer, id: id, fields: fields, government: government, organizationTypes: organizationTypes) {
                        return WriteRefusal(
                            kind: .forbidden, fields: fields + (government.map { [$0] } ?? []),
                            reason: "a member of \(writer.org) may not write this record: \(before == nil ? "it is not its organization's" : moment). \(schema.writeRule.summary)")
                    }
                }
            }
        case .coordinator:
            break
        }
        if let rule = schema.forwardOnly, written.contains(rule.field) {
            let rank = { (value: FieldValue) -> Int in
                if case .string(let text) = value { return rule.order.firstIndex(of: text) ?? -1 }
                return -1
            }
            let highest = (before?.fields[rule.field] ?? []).map { rank($0.value) }.max() ?? -1
            if brought(after, rule.field, seen).contains(where: { rank($0.value) < highest }) {
                return WriteRefusal(
                    kind: .backwardStatus, fields: [rule.field],
                    reason: "\(rule.field) only moves forward: \(rule.order.joined(separator: " → ")); it may not move back or be cleared")
            }
        }
        return nil
    }

    /// The entries of `field` a write brings: those whose dots the state before had not seen.
    static func brought(_ after: RecordState, _ field: String, _ seen: VersionVector) -> [FieldEntry] {
        (after.fields[field] ?? []).filter { !seen.contains($0.dot) }
    }

    /// The entries of `field` a write brings with a value the field did not hold before.
    static func changed(_ after: RecordState, _ field: String, _ before: RecordState?, _ seen: VersionVector) -> [FieldEntry] {
        let held = Set((before?.fields[field] ?? []).map(\.value))
        return brought(after, field, seen).filter { !held.contains($0.value) }
    }

    static func owns(
        _ state: RecordState, writer: Writer, id: String, fields: [String], government: String?, organizationTypes: (String) -> [String]
    ) -> Bool {
        for field in fields {
            let values = field == "id" ? [id] : state.strings(of: field)
            if !values.isEmpty, values.allSatisfy({ $0.lowercased() == writer.org }) { return true }
        }
        if let government {
            let subjects = state.strings(of: government)
            return !subjects.isEmpty && subjects.allSatisfy { subject in
                let types = organizationTypes(subject.lowercased())
                return !types.isEmpty && types.allSatisfy(Catalogue.governmentTypes.contains)
            }
        }
        return false
    }
}

extension RecordState {
    /// The text of every candidate of `field` that holds one (a conflict gives several).
    public func strings(of field: String) -> [String] {
        (fields[field] ?? []).compactMap { entry in
            if case .string(let text) = entry.value { return text }
            return nil
        }
    }
}
