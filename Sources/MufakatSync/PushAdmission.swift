import MufakatCore

/// Why the hub refused one pushed record: a stable code and the fields concerned — never
/// the refused values, so a `pushed` reply stays small whatever was sent.
public struct RecordRejection: Hashable, Sendable {
    public var code: Code
    /// The fields concerned, each once, sorted by UTF-8 bytes; empty when the whole record is
    /// concerned.
    public var fields: [String]
    /// One sentence for the log and the person, without values.
    public var reason: String
    /// For ``Code/reusedDot``: the dots concerned, sorted, at most ``maxDots`` — metadata,
    /// never values. Empty for every other code.
    public var dots: [Dot]
    public static let maxDots = 32

    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// Unknown collection, bad id, unknown field, value of the wrong type, no fields.
        case invalid
        /// Carries writes of another replica that the hub has not seen.
        case forgedDot = "forged-dot"
        /// Claims writes of the pusher's own id beyond the counter its push declared.
        case counterBeyond = "counter-beyond"
        /// Would remove a value the hub holds without a new write to that field.
        case removesEntry = "removes-entry"
        /// Holds a write the hub holds with different contents.
        case corruption
        /// An id its collection's id rule does not give: not a slug, or not what its key
        /// fields derive (``CatalogueRules``).
        case badID = "bad-id"
        /// A live record without a value in a required field (``CatalogueRules``).
        case missingField = "missing-field"
        /// Holds a write under a dot the hub knows as a write of another record: the dot's
        /// replica id used it twice (a restored or copied folder, perhaps with a rewound hub).
        case reusedDot = "reused-dot"
        /// The token's role and organisation give no right to this write (``WriteRights``).
        case forbidden
        /// Moves a forward-only field (a report's status) back, or clears it.
        case backwardStatus = "backward-status"
        /// A relayed state (protocol 5) whose voucher is not this hub's for that state.
        case unvouched
    }

    public init(_ code: Code, fields: [String] = [], dots: [Dot] = [], _ reason: String) {
        self.code = code
        self.fields = Set(fields).sorted { $0.utf8Precedes($1) }
        self.dots = Array(Set(dots).sorted().prefix(Self.maxDots))
        self.reason = reason
    }

    /// `invalid` for values the catalogue refuses: the rule each breaks, never the value (the
    /// log keeps no refused data).
    public init(values problems: [ValidationProblem], collection: String) {
        let rules = Set(problems.map { $0.rule }).sorted().joined(separator: "; ")
        self.init(
            .invalid, fields: Array(Set(problems.compactMap(\.field))),
            "values the catalogue does not accept: \(rules) (see 'mufakat help \(collection)')")
    }

    /// The refusal of a write the token's rights do not give (``WriteRights``).
    public init(_ refusal: WriteRefusal) {
        self.init(refusal.kind == .forbidden ? .forbidden : .backwardStatus, fields: refusal.fields, refusal.reason)
    }
}

/// What the hub does with one pushed record.
public enum Admission: Hashable, Sendable {
    /// Store this merged state (it differs from what the hub held).
    case store(RecordState)
    /// The hub already holds exactly this: a resend.
    case unchanged
    case reject(RecordRejection)
}

/// The hub's rules for one pushed record. Pure: the hub store applies the verdicts of a
/// batch in one transaction.
public struct PushRules: Hashable, Sendable {
    /// Re-seed mode, turned on by the hub operator to refill a rebuilt or rewound hub: a
    /// replica may relay writes of other replicas the hub has not seen.
    public var relay: Bool

    public init(relay: Bool = false) {
        self.relay = relay
    }

    /// Checks `pushed`, sent by `pusher` in a push that declared `counter`, against the
    /// hub's `stored` state of that record.
    ///
    /// 1. the catalogue: collection, id, fields and values (`invalid`); a record holds at
    ///    least one field; entry times within 1970–2100, authors of 1–200 bytes; a record
    ///    no larger than 256 KiB, merged;
    /// 2. no context entry above 2^63 − 1, and none of the pusher's own above the counter its
    ///    push declared (`counter-beyond`): a context that claims writes that never were
    ///    would make the pusher's later real writes look already seen, and vanish;
    /// 3. only the pusher's own new writes (`forged-dot`), unless relaying;
    /// 4. one dot, one write: same contents, time and author wherever both hold it
    ///    (`corruption`) — two copies of one replica folder may have used one dot twice;
    /// 5. one dot, one record (`reused-dot`): an entry the hub does not hold in this record,
    ///    under a dot `owner` names for another record, is a second write under that dot —
    ///    its replica id was used twice (a laptop restored from a backup and a hub restored
    ///    from an older snapshot lose the same writes, and the laptop uses their dots again).
    ///    Merged, it would vanish behind the context of the write that reused its dot, so
    ///    the pusher writes it again under a dot of its own (§6.9), or takes a new id when
    ///    the dot is its own;
    /// 6. an entry the hub holds leaves a field only for a new write to that field that the
    ///    pusher may introduce, and that is not older than the entry (`removes-entry`): a
    ///    context-only push cannot erase values, and a context naming a dot its twin used
    ///    for another write cannot erase that write.
    ///
    /// `owner` gives the record the hub first stored an entry under a dot in (the hub's dot
    /// index), `nil` for a dot it never stored.
    public func admit(
        _ pushed: ReplicatedRecord, stored: RecordState?, pusher: ReplicaID, counter: UInt64,
        owner: (Dot) -> RecordKey? = { _ in nil }
    ) -> Admission {
        guard let schema = try? Catalogue.collection(named: pushed.collection), schema.name == pushed.collection else {
            return .reject(RecordRejection(
                .invalid, "unknown collection; the collections are \(Catalogue.collectionNames.joined(separator: ", "))"))
        }
        if RecordIDs.problem(with: pushed.id) != nil {
            return .reject(RecordRejection(
                .invalid, "the id is not valid: 1 to \(RecordIDs.maxLength) letters, digits and - _ . : + @"))
        }
        if let refusal = pushed.refusal {
            return .reject(RecordRejection(
                .invalid, fields: refusal.field.map { [$0] } ?? [], "a number out of its range: \(refusal.reason)"))
        }
        let state = pushed.state
        guard !state.fields.isEmpty else {
            return .reject(RecordRejection(.invalid, "the record has no fields; a record holds at least one"))
        }
        // Values are checked where the push brings them: a value the hub holds already
        // was checked when it came.
        let known = stored?.context ?? VersionVector()
        let problems = schema.problems(in: state, newerThan: known)
        guard problems.isEmpty else { return .reject(RecordRejection(values: problems, collection: schema.name)) }
        let implausible = Array(state.fields.filter { $0.value.contains { !Self.plausible($0) } }.keys)
        if !implausible.isEmpty {
            return .reject(RecordRejection(
                .invalid, fields: implausible,
                "an entry's time is outside 1970–2100, or its author is empty or longer than \(Self.maxAuthorBytes) bytes"))
        }
        guard Counters.isInRange(state.context) else {
            return .reject(RecordRejection(.counterBeyond, "a context counter is above \(Counters.maxCounter)"))
        }
        guard state.context[pusher] <= counter else {
            return .reject(RecordRejection(
                .counterBeyond,
                "claims writes of replica \(pusher) up to \(state.context[pusher]), beyond the counter its push declared (\(counter))"))
        }
        if !relay {
            let foreign = state.context.counters.filter { $0.key != pusher && $0.value > known[$0.key] }
            guard foreign.isEmpty else {
                return .reject(RecordRejection(
                    .forgedDot,
                    "carries writes of replica \(foreign.keys.sorted().map(\.rawValue).joined(separator: ", ")) that the hub has not seen; a replica may only send its own new writes"))
            }
        }
        // One write stamps all its fields alike: entries under one dot differing in time
        // or author are two writes under one dot.
        guard !Incarnation.stampsOneDotTwice(state) else {
            return .reject(RecordRejection(.corruption, "entries under one dot differ in time or author"))
        }
        if let rejection = Self.reusedElsewhere(state, stored: stored, key: RecordKey(collection: pushed.collection, id: pushed.id), owner: owner) {
            return .reject(rejection)
        }
        guard let stored else {
            guard state.canonicalJSON.utf8.count <= Self.maxRecordBytes else {
                return .reject(RecordRejection(.invalid, "the record is larger than \(Self.maxRecordBytes) bytes"))
            }
            return .store(state)
        }
        let merged: RecordState
        do {
            guard !Incarnation.holdsReusedDot(stored, state) else {
                throw MufakatError(.corruption, "a dot names two different writes")
            }
            merged = try stored.merging(state)
        } catch {
            return .reject(RecordRejection(
                .corruption, "holds a write the hub holds with different contents"))
        }
        var removing: [String] = []
        for (name, entries) in stored.fields {
            let after = merged.fields[name] ?? []
            let leaving = entries.filter { !after.contains($0) }
            guard !leaving.isEmpty else { continue }
            // A write that saw an entry is later than it (the time rule, §6.2): a new write
            // older than a leaving entry cannot have replaced it — the pushed context names
            // that entry's dot only because a twin copy used the dot for another write.
            let brought = (state.fields[name] ?? []).filter { entry in
                !known.contains(entry.dot) && (relay || entry.dot.replica == pusher)
            }
            let brings = leaving.allSatisfy { gone in brought.contains { $0.time >= gone.time } }
            if !brings { removing.append(name) }
        }
        guard removing.isEmpty else {
            return .reject(RecordRejection(
                .removesEntry, fields: removing,
                "would remove values the hub holds without writing those fields anew"))
        }
        if merged == stored { return .unchanged }
        // Every replica must be able to receive the record: its canonical line stays well
        // under the line limit, however many concurrent entries pile up in it.
        guard merged.canonicalJSON.utf8.count <= Self.maxRecordBytes else {
            return .reject(RecordRejection(
                .invalid, "the record would grow past \(Self.maxRecordBytes) bytes; resolve its conflicts first"))
        }
        return .store(merged)
    }

    /// The `reused-dot` refusal of rule 5, or `nil`: entries of `state` the hub does not hold
    /// in this record under dots whose owner is another record.
    static func reusedElsewhere(
        _ state: RecordState, stored: RecordState?, key: RecordKey, owner: (Dot) -> RecordKey?
    ) -> RecordRejection? {
        let dots = state.dots(notHeldBy: stored).filter { dot in owner(dot).map { $0 != key } ?? false }
        guard !dots.isEmpty else { return nil }
        let fields = state.fields.filter { $0.value.contains { dots.contains($0.dot) } }.keys
        return RecordRejection(
            .reusedDot, fields: Array(fields), dots: Array(dots),
            "holds a write under a dot the hub knows as another record's: that replica id wrote twice under one dot (a restored or copied folder); the write is sent again under a new dot")
    }

    /// Most bytes of one record's canonical state: a quarter of the default line limit.
    public static let maxRecordBytes = 256 << 10
    /// Most bytes of an entry's author.
    public static let maxAuthorBytes = 200
    /// 2100-01-01, in milliseconds.
    static let latestTime: Int64 = 4_102_444_800_000

    static func plausible(_ entry: FieldEntry) -> Bool {
        (0...latestTime).contains(entry.time) && !entry.author.isEmpty && entry.author.utf8.count <= maxAuthorBytes
    }
}

extension RecordState {
    /// The dots of this state's entries that `other` holds no entry under (every dot when
    /// `other` is `nil`): the writes a push brings to a record, as the hub's dot index sees
    /// them.
    public func dots(notHeldBy other: RecordState?) -> Set<Dot> {
        let held = Set(other?.fields.values.joined().map(\.dot) ?? [])
        return Set(fields.values.joined().map(\.dot)).subtracting(held)
    }
}
