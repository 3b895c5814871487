import GRDB
import MufakatCore
import MufakatSync

/// What a write did.
public struct WriteOutcome: Sendable, Hashable, Codable {
    public var collection: String
    public var id: String
    /// `created`, `updated`, `restored` (a deleted record written to, or restored), `deleted`,
    /// `resolved`, or `unchanged` (nothing written, no dot).
    public var action: String
    /// Things worth knowing that did not stop the write, such as a reference to a record
    /// this replica does not have (yet).
    public var warnings: [String]
    /// The values this write replaced, by field, as they were shown (`put` or `new` over an
    /// existing record).
    public var replaced: [String: String] = [:]
}

extension ReplicaStore {
    /// Writes the named fields of one record as one operation (`field=` clears a field).
    ///
    /// Nothing is written when any value is invalid — every problem is reported at once — or
    /// when the values equal what the record already holds without conflict (no new dot,
    /// nothing to sync, same digest). A deleted record is brought back.
    @discardableResult
    public func put(_ collection: String, id: String, _ assignments: [(field: String, value: String)]) throws -> WriteOutcome {
        try writeOne(Catalogue.collection(named: collection), id: id, assignments, verb: "put")
    }

    /// Creates a record, deriving or generating its id; returns the id in the outcome.
    @discardableResult
    public func new(_ collection: String, _ assignments: [(field: String, value: String)]) throws -> WriteOutcome {
        let schema = try Catalogue.collection(named: collection)
        let (values, problems) = schema.parse(assignments)
        if !problems.isEmpty {
            throw MufakatError(problems: problems, context: "new \(schema.name): nothing was written")
        }
        switch Self.idForNewRow(schema: schema, assignments: assignments) {
        case .success(let id):
            return try writeOne(schema, id: id, assignments, verb: "new")
        case .failure(let problem):
            let missing = schema.problems(in: values)
            throw MufakatError(problems: missing.isEmpty ? [problem] : missing, context: "new \(schema.name): nothing was written")
        }
    }

    /// One `put` in its own transaction, with problems turned into a ``MufakatError``.
    private func writeOne(
        _ schema: CollectionSchema, id: String, _ assignments: [(field: String, value: String)], verb: String
    ) throws -> WriteOutcome {
        do {
            return try writer.write { db in
                let dots = try DotAllocator(db)
                let outcome = try put(db, schema: schema, id: id, assignments: assignments, dots: dots, verb: verb)
                try dots.save(db)
                return outcome
            }
        } catch let error as InvalidWrite {
            var failure = MufakatError(problems: error.problems, context: error.context)
            failure.code = error.code
            throw failure
        }
    }

    func put(
        _ db: Database, schema: CollectionSchema, id: String, assignments: [(field: String, value: String)], dots: DotAllocator,
        verb: String
    ) throws -> WriteOutcome {
        let (parsed, parseProblems) = schema.parse(assignments)
        var existing = try db.fetchState(collection: schema.name, id: id)
        // Writes waiting in the journal (this replica took a new id and has not finished
        // syncing): this write has seen them, and their values count for what is required.
        // Only what the record had seen when they were taken: a write of another replica
        // waiting there may lie beyond it (its dot reused elsewhere), and claiming it would
        // claim that replica's other writes too.
        let pending = try Self.loadJournal(db, RecordKey(collection: schema.name, id: id))
        if let pending {
            let base = existing ?? RecordState()
            existing = try RecordState(context: base.context.merging(pending.seen), fields: base.fields)
        }
        var state = existing ?? RecordState()
        var values = parsed
        if existing == nil || state.isDeleted {
            for (key, value) in schema.keyValues(fromID: id) where values[key] == nil && state.displayValue(of: key) == nil {
                values[key] = value
            }
        }
        if state.isDeleted { values[RecordState.deletedField] = .bool(false) }
        // Who created a record, where the collection keeps it (an action): this replica's
        // organisation, unless given.
        if existing == nil, schema.field(named: Self.createdByField) != nil, values[Self.createdByField] == nil,
            let org = try Self.requireMetadata(db).writer?.org
        {
            values[Self.createdByField] = .string(org)
        }

        // Who made an assessment (a position's assessedBy): a member's write names its own
        // organisation there, as the hub requires of it.
        if let field = schema.writeRule.writerField, values[field] == nil,
            values.keys.contains(where: { $0 != field && $0 != RecordState.deletedField && !schema.idRule.keyFields.contains($0) }),
            let writer = try Self.requireMetadata(db).writer, writer.role == .member
        {
            values[field] = .string(writer.org)
        }
        var document = state.document
        for (name, entries) in pending?.entries ?? [:] where document[name] == nil && name != RecordState.deletedField {
            if let value = entries.first?.value, !value.isNull { document[name] = value }
        }
        for (name, value) in values where name != RecordState.deletedField {
            document[name] = value.isNull ? nil : value
        }
        var problems = parseProblems
        if let existing, !existing.fields.isEmpty {
            problems += schema.keyChanges(in: values, of: existing, id: id)
        }
        if problems.isEmpty {
            problems += schema.problems(withID: id, document: document)
            problems += schema.problems(in: document)
        }
        guard problems.isEmpty else {
            throw InvalidWrite(problems: problems, context: "\(verb) \(schema.name) \(id): nothing was written")
        }
        let warnings = try referenceWarnings(db, schema: schema, values: values)
        if existing != nil, state.wouldBeUnchanged(by: values) {
            return WriteOutcome(collection: schema.name, id: id, action: "unchanged", warnings: warnings)
        }
        var replaced: [String: String] = [:]
        if existing != nil {
            for (name, value) in values where name != RecordState.deletedField {
                if let old = state.displayValue(of: name), old != value { replaced[name] = old.text }
            }
        }
        let before = existing
        let dot = try dots.next(after: state)
        try state.write(values, dot: dot, now: clock(), author: dots.author)
        if let refusal = try Self.rightsRefusal(db, schema: schema, id: id, before: before, after: state) {
            throw InvalidWrite(
                problems: [ValidationProblem(field: nil, refusal.reason)], context: "\(verb) \(schema.name) \(id): nothing was written",
                code: refusal.kind == .forbidden ? .forbidden : .invalid)
        }
        try Self.storeWrite(db, collection: schema.name, id: id, state: state, dot: dot, author: dots.author, enteredAt: clock())
        let action = existing == nil ? "created" : existing?.isDeleted == true ? "restored" : "updated"
        return WriteOutcome(collection: schema.name, id: id, action: action, warnings: warnings, replaced: replaced)
    }

    /// Deletes a record: a write of `_deleted = true` that also writes every field's value
    /// again, so the record keeps what it held (``restore(_:id:)`` brings it back whole) and
    /// an edit made elsewhere at the same time survives as a conflict.
    @discardableResult
    public func delete(_ collection: String, id: String) throws -> WriteOutcome {
        let schema = try Catalogue.collection(named: collection)
        return try writer.write { db in
            guard var state = try db.fetchState(collection: schema.name, id: id) else {
                throw MufakatError(.notFound, "delete \(schema.name) \(id): no such record on this replica", value: id)
            }
            let conflicts = state.conflicts
            if state.isDeleted && conflicts.isEmpty {
                return WriteOutcome(collection: schema.name, id: id, action: "unchanged", warnings: ["already deleted"])
            }
            // A delete keeps one value per field (the shown one), so that a restore brings
            // the record back whole: the other candidates of a live conflict would be lost.
            // (In a deleted record, deleting again is choosing the deletion over raced edits.)
            if !state.isDeleted, !conflicts.isEmpty {
                throw MufakatError(
                    .invalid,
                    "delete \(schema.name) \(id): \(conflicts.map(\.field).joined(separator: ", ")) \(conflicts.count == 1 ? "is" : "are") in conflict; a delete keeps one value per field for a later restore, so choose first ('mufakat conflicts', 'mufakat resolve \(schema.name) \(id) FIELD --pick N'), then delete; nothing was written")
            }
            var warnings: [String] = []
            if state.isDeleted {
                warnings = conflicts.filter { $0.field != RecordState.deletedField }.map {
                    "\($0.field): the edit made while it was deleted is dropped (the record stays deleted)"
                }
            }
            let dots = try DotAllocator(db)
            let before = state
            let dot = try dots.next(after: state)
            try state.delete(dot: dot, now: clock(), author: dots.author)
            try Self.checkRights(db, schema: schema, id: id, before: before, after: state, verb: "delete")
            try Self.storeWrite(db, collection: schema.name, id: id, state: state, dot: dot, author: dots.author, enteredAt: clock())
            try dots.save(db)
            return WriteOutcome(collection: schema.name, id: id, action: "deleted", warnings: warnings)
        }
    }

    /// Brings a deleted record back with the values it held when it was deleted: a write of
    /// `_deleted = false`. Fields where an edit raced the delete stay conflicted (the value
    /// before the delete against the edit) until someone resolves them.
    @discardableResult
    public func restore(_ collection: String, id: String) throws -> WriteOutcome {
        let schema = try Catalogue.collection(named: collection)
        return try writer.write { db in
            guard var state = try db.fetchState(collection: schema.name, id: id) else {
                throw MufakatError(.notFound, "restore \(schema.name) \(id): no such record on this replica", value: id)
            }
            guard state.isDeleted else {
                return WriteOutcome(collection: schema.name, id: id, action: "unchanged", warnings: ["not deleted"])
            }
            let values = try Self.revival(
                [RecordState.deletedField: .bool(false)], of: state, schema: schema, id: id,
                context: "restore \(schema.name) \(id): nothing was written")
            let dots = try DotAllocator(db)
            let before = state
            let dot = try dots.next(after: state)
            try state.write(values, dot: dot, now: clock(), author: dots.author)
            try Self.checkRights(db, schema: schema, id: id, before: before, after: state, verb: "restore")
            try Self.storeWrite(db, collection: schema.name, id: id, state: state, dot: dot, author: dots.author, enteredAt: clock())
            try dots.save(db)
            return WriteOutcome(collection: schema.name, id: id, action: "restored", warnings: [])
        }
    }

    /// The values that leave the record usable after writing `values`: those, plus the key
    /// fields its id spells out where it lacks them; throws, naming each problem and how to
    /// fix it, when the record would still be incomplete or invalid (a required field
    /// cleared, or a record deleted by an older version, which wrote nulls) — rather than
    /// write a record nobody can use. `_deleted` is not checked.
    static func revival(
        _ values: [String: FieldValue], of state: RecordState, schema: CollectionSchema, id: String, context: String
    ) throws -> [String: FieldValue] {
        var values = values
        for (key, value) in schema.keyValues(fromID: id) where state.displayValue(of: key) == nil && values[key] == nil {
            values[key] = value
        }
        var document = state.document
        for (name, value) in values where name != RecordState.deletedField { document[name] = value.isNull ? nil : value }
        let problems = schema.problems(in: document)
        guard problems.isEmpty else {
            throw MufakatError(
                problems: problems,
                context: "\(context). Give the missing values with 'mufakat put \(schema.name) \(id) field=value', which also brings the record back")
        }
        return values
    }

    /// How a person settles a conflicted field.
    public enum Resolution: Sendable, Hashable {
        /// Keep candidate number N (1-based, in the order `conflicts` lists them).
        case pick(Int)
        /// Write a new value (as typed).
        case value(String)
    }

    /// Settles a conflicted field with an ordinary write that has seen every candidate, so
    /// it replaces them all on every replica once synced.
    @discardableResult
    public func resolve(_ collection: String, id: String, field: String, _ resolution: Resolution) throws -> WriteOutcome {
        let schema = try Catalogue.collection(named: collection)
        return try writer.write { db in
            guard var state = try db.fetchState(collection: schema.name, id: id) else {
                throw MufakatError(.notFound, "resolve \(schema.name) \(id): no such record on this replica", value: id)
            }
            let conflicts = state.conflicts
            guard let conflict = conflicts.first(where: { $0.field == field }) else {
                let fields = conflicts.map(\.field)
                throw MufakatError(
                    .notFound,
                    fields.isEmpty
                        ? "resolve \(schema.name) \(id): the record has no conflicts"
                        : "resolve \(schema.name) \(id): field '\(field)' has no conflict; conflicted fields: \(fields.joined(separator: ", "))",
                    value: field)
            }
            let value: FieldValue
            var deleting = false
            switch resolution {
            case .pick(let number):
                guard (1...conflict.candidates.count).contains(number) else {
                    throw MufakatError(
                        .invalid,
                        "resolve \(schema.name) \(id) \(field): --pick \(number) is not a candidate; choose 1 to \(conflict.candidates.count) (see 'mufakat conflicts')",
                        value: String(number))
                }
                value = conflict.candidates[number - 1].value
                deleting = conflict.candidates[number - 1].isDeletion
            case .value(let raw):
                let spec = field == RecordState.deletedField ? nil : schema.field(named: field)
                if let spec {
                    switch spec.type.parse(raw) {
                    case .success(let parsed): value = parsed
                    case .failure(let failure):
                        throw MufakatError(problems: [ValidationProblem(field: field, failure.message(for: raw))], context: "resolve \(schema.name) \(id): nothing was written")
                    }
                } else {
                    let lowered = raw.lowercased()
                    guard lowered == "true" || lowered == "false" else {
                        throw MufakatError(.invalid, "resolve \(schema.name) \(id): _deleted accepts true or false")
                    }
                    value = .bool(lowered == "true")
                }
            }
            var values = state.resolutionValues(field: field, value: value, deleting: deleting)
            var warnings: [String] = []
            if values[RecordState.deletedField] == .bool(true) {
                // Choosing the deletion settles every edit that raced it: say which.
                warnings = conflicts.filter { $0.field != field && $0.field != RecordState.deletedField }.map {
                    "\($0.field): the edit made while it was deleted is dropped too (the record stays deleted)"
                }
            } else {
                // A chosen value is a write like `put`: key fields never change, required
                // fields stay filled.
                let keyProblems = schema.keyChanges(in: values, of: state, id: id)
                guard keyProblems.isEmpty else {
                    throw MufakatError(problems: keyProblems, context: "resolve \(schema.name) \(id): nothing was written")
                }
                values = try Self.revival(
                    values, of: state, schema: schema, id: id,
                    context: values[RecordState.deletedField] == .bool(false)
                        ? "resolve \(schema.name) \(id): keeping this value would bring the record back incomplete; nothing was written"
                        : "resolve \(schema.name) \(id): the record would be incomplete; nothing was written")
            }
            let dots = try DotAllocator(db)
            let before = state
            let dot = try dots.next(after: state)
            try state.write(values, dot: dot, now: clock(), author: dots.author)
            try Self.checkRights(db, schema: schema, id: id, before: before, after: state, verb: "resolve")
            try Self.storeWrite(db, collection: schema.name, id: id, state: state, dot: dot, author: dots.author, enteredAt: clock())
            try dots.save(db)
            return WriteOutcome(collection: schema.name, id: id, action: "resolved", warnings: warnings)
        }
    }

    static let createdByField = "createdBy"

    /// The hub's refusal of this local write by its write rights (``WriteRights``), judged
    /// on what this replica holds, so a person learns at once rather than at the next
    /// sync; `nil` when allowed, or before the first sync told this replica its role.
    ///
    /// A record only this replica's id ever wrote, none of it acknowledged, is one the hub
    /// never stored (written before the first sync, or refused): it is judged as new, as
    /// the hub will judge it, so a refused record can be corrected.
    static func rightsRefusal(
        _ db: Database, schema: CollectionSchema, id: String, before: RecordState?, after: RecordState
    ) throws -> WriteRefusal? {
        let metadata = try requireMetadata(db)
        guard let writer = metadata.writer else { return nil }
        var before = before
        if metadata.naming {
            // The hub judges a record it never named as new.
            if before != nil,
                try String.fetchOne(db, cached: "SELECT named FROM records WHERE collection = ? AND id = ?", arguments: [schema.name, id]) == nil
            {
                before = nil
            }
        } else if let state = before, Set(state.context.counters.keys) == [metadata.replica],
            (try Int64.fetchOne(db, cached: "SELECT acked FROM records WHERE collection = ? AND id = ?", arguments: [schema.name, id]) ?? 0) == 0
        {
            before = nil
        }
        return WriteRights.refusal(
            writer: writer, schema: schema, id: id, before: before, after: after,
            organizationTypes: { (try? db.fetchState(collection: "organizations", id: $0)?.strings(of: "type")) ?? [] })
    }

    /// Throws ``MufakatError/Code/forbidden`` for a write ``rightsRefusal`` refuses.
    static func checkRights(
        _ db: Database, schema: CollectionSchema, id: String, before: RecordState?, after: RecordState, verb: String
    ) throws {
        guard let refusal = try rightsRefusal(db, schema: schema, id: id, before: before, after: after) else { return }
        throw MufakatError(
            refusal.kind == .forbidden ? .forbidden : .invalid, "\(verb) \(schema.name) \(id): \(refusal.reason); nothing was written")
    }

    func referenceWarnings(_ db: Database, schema: CollectionSchema, values: [String: FieldValue]) throws -> [String] {
        var warnings: [String] = []
        for spec in schema.fields {
            guard let value = values[spec.name] else { continue }
            let target: String
            let ids: [String]
            switch (spec.type, value) {
            case (.reference(let collection), .string(let id)): (target, ids) = (collection, [id])
            case (.references(let collection), .list(let list)): (target, ids) = (collection, list)
            default: continue
            }
            for id in ids where try !db.recordExists(collection: target, id: id) {
                warnings.append("\(spec.name): '\(id)' is not in \(target) on this replica (yet)")
            }
        }
        return warnings
    }
}

/// Hands out this replica's dots inside one transaction and stores the counter once at the
/// end. The counter is also the local change sequence: a record's `seq` is the counter of
/// its last local write.
final class DotAllocator {
    let replica: ReplicaID
    let author: String
    private(set) var counter: UInt64
    private let initial: UInt64
    /// The write ids of this transaction, in a replica whose writes the hub names.
    private var writeIDs: WriteIDSource?

    init(_ db: Database) throws {
        var metadata = try ReplicaStore.requireMetadata(db)
        if metadata.naming {
            // The hub names this replica's writes (protocol 5): each write gets a write id
            // of this transaction, and its entries the id's local dot until named.
            writeIDs = WriteIDSource()
        }
        if !metadata.naming, metadata.counter >= Counters.maxCounter {
            // No counter left under this id (2^63 − 1 operations, or a counter raised by
            // hand): take a new id and write this replica's unacknowledged writes again
            // under it, as a restored replica does — never wrap around, never reuse a dot.
            _ = try ReplicaStore.incarnate(db, &metadata, forgetting: false)
            try metadata.save(db)
            _ = try ReplicaStore.replayJournal(db, pulled: false)
            metadata = try ReplicaStore.requireMetadata(db)
        }
        replica = metadata.replica
        author = metadata.name
        counter = metadata.counter
        initial = metadata.counter
    }

    /// The next dot for a write on `state`. A record that already holds writes of this
    /// replica id beyond its counter got them from a copy of this folder that used the same
    /// id: the counter moves past them so this write is not mistaken for one already seen,
    /// and the next sync gives this replica a new id (see `Incarnation`).
    func next(after state: RecordState) throws -> Dot {
        if writeIDs != nil { return writeIDs!.next().localDot }
        counter = max(counter, min(state.context[replica], Counters.maxCounter))
        return try next()
    }

    func next() throws -> Dot {
        guard counter < Counters.maxCounter else {
            throw MufakatError(
                .invalid,
                "replica \(replica) has used its last counter (\(Counters.maxCounter)) in this write; nothing was written. Run the command again: the replica then takes a new id and keeps its changes")
        }
        counter += 1
        return Dot(replica: replica, counter: counter)
    }

    func save(_ db: Database) throws {
        guard counter != initial else { return }
        try db.execute(cached: "UPDATE meta SET value = ? WHERE key = 'counter'", arguments: [String(counter)])
    }
}

/// Problems found while preparing a write; the public methods turn it into a
/// ``MufakatError``, the CSV import collects it per row.
struct InvalidWrite: Error {
    var problems: [ValidationProblem]
    var context: String
    var code: MufakatError.Code = .invalid
}

extension ReplicaStore {
    /// Removes a record the hub refused and never stored, with what this replica wrote to
    /// it — for a refusal nothing on this laptop can settle, such as a figure whose key
    /// fields name another organisation. Only such a record: it waits in the resend list
    /// with a hub's refusal, no write of it was ever acknowledged, and it holds no other
    /// replica's write (so nobody else has it). Returns the values it held, for the person.
    @discardableResult
    public func discardRefused(_ collection: String, id: String) throws -> [String: FieldValue] {
        let schema = try Catalogue.collection(named: collection)
        return try writer.write { db in
            let metadata = try Self.requireMetadata(db)
            if metadata.naming {
                guard try db.fetchState(collection: schema.name, id: id) != nil else {
                    throw MufakatError(.notFound, "discard \(schema.name) \(id): no such record on this replica", value: id)
                }
                guard let values = try Self.discardRefusedWrites(db, collection: schema.name, id: id) else {
                    throw MufakatError(
                        .invalid,
                        "discard \(schema.name) \(id): the hub refused none of this replica's writes to it; nothing was removed",
                        value: id)
                }
                return values
            }
            guard let state = try db.fetchState(collection: schema.name, id: id) else {
                throw MufakatError(.notFound, "discard \(schema.name) \(id): no such record on this replica", value: id)
            }
            let refusal = try String.fetchOne(db, cached: "SELECT code FROM resend WHERE collection = ? AND id = ?", arguments: [schema.name, id])
            let acked = try Int64.fetchOne(db, cached: "SELECT acked FROM records WHERE collection = ? AND id = ?", arguments: [schema.name, id]) ?? 0
            guard let refusal, refusal != "hub-lacks", refusal != "unlisted", acked == 0,
                Set(state.context.counters.keys) == [metadata.replica]
            else {
                throw MufakatError(
                    .invalid,
                    "discard \(schema.name) \(id): only a record the hub refused and never stored can be discarded (this one \(refusal == nil ? "is not refused" : "holds writes the hub or others have")); nothing was removed",
                    value: id)
            }
            try db.execute(cached: "DELETE FROM records WHERE collection = ? AND id = ?", arguments: [schema.name, id])
            try db.execute(cached: "DELETE FROM resend WHERE collection = ? AND id = ?", arguments: [schema.name, id])
            try db.execute(cached: "DELETE FROM journal WHERE collection = ? AND id = ?", arguments: [schema.name, id])
            return state.document
        }
    }
}
